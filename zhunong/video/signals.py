"""Steps of the video services that background work follows up (tasks.py connects to them in
VideoConfig.ready), so the services need not import the tasks that import them."""

from django.dispatch import Signal

# A publisher left and its stream waits for it to come back. Sent after commit with: ingest_id, delay
# (seconds after which the grace period is over).
reconnect_grace_started = Signal()

# A stream with video ended and its replay is pending. Sent after commit with: replay_id, delay (seconds
# to wait for the last recording to be registered).
replay_queued = Signal()

"""Inflated traffic (流量注水): view-bot sessions and a displayed viewer count beyond the real audience.

Bot signals after FLOCK (Shah et al., "FLOCK: Combating Astroturfing on Livestreaming Platforms", WWW
2017): bots are cheap only in bulk, so they arrive through few addresses or devices, or all at once (a
step in the viewer curve no audience makes), and they do not take part: no chat, no like, no click.
Real crowds share addresses too (carrier NAT puts hundreds of phones behind one), and a pin brings a
crowd in one minute, but real crowds take part at the stream's usual rate. So each candidate group
(sessions of one address, of one device, or that joined in one step minute) is tested: a one-sided
binomial test of its engaged sessions against the stream's engaged share. A group far below it has its
silent sessions flagged.

Apart from bots, the displayed count itself: the `viewers` events (what the platform showed) against the
sessions that were alive then (joined, and seen by a heartbeat or an event in the last two heartbeat
intervals). A displayed count well above that is flagged for the stream, with no session to name.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.stats import binom

from zhunong.supervision.eventlog import EventLog, Session

from .common import flag, score_from_p

DETECTOR = "inflated_traffic.silent_groups"
COUNT_DETECTOR = "inflated_traffic.displayed_count"
MIN_GROUP = 10
P_MAX = 1e-6
STEP_MADS = 10.0
STEP_MIN_JOINS = 30
COUNT_RATIO = 1.25  # displayed / alive, summed over the minutes with at least 20 displayed viewers


def _interval(sessions: list[Session]) -> float:
    gaps = [(s.last_seen - s.joined) / s.heartbeats for s in sessions if s.heartbeats >= 2]
    return float(np.median(gaps)) if gaps else 30.0


def detect(log: EventLog) -> list[dict]:
    by_stream: dict[str, list[Session]] = defaultdict(list)
    for s in log.sessions.values():
        by_stream[s.stream_id].append(s)
    flags = []
    for stream_id, sessions in by_stream.items():
        stream = log.streams[stream_id]
        interval = _interval(sessions)
        flags.extend(_silent_groups(stream_id, sessions, interval))
        count_flag = _displayed_count(stream, sessions, interval)
        if count_flag:
            flags.append(count_flag)
    return flags


def _silent_groups(stream_id: str, sessions: list[Session], interval: float) -> list[dict]:
    if len(sessions) < MIN_GROUP:
        return []
    engaged = np.array([s.engaged for s in sessions])
    share = max(float(engaged.mean()), 1e-3)
    # Who stays longer has more chances to take part: each session's expected chance to engage is the
    # stream's share among sessions of similar length (deciles), made non-decreasing in length by isotonic
    # regression (pool adjacent violators). The monotone fit also keeps a decile filled by bots of one
    # length from lowering its own expectation.
    length = np.array([s.last_seen - s.joined for s in sessions])
    # A session that never sent a heartbeat nor left has no known length: it is held to the stream's share.
    unknown = np.array([s.heartbeats == 0 and s.left is None for s in sessions])
    edges = np.unique(np.quantile(length, np.linspace(0, 1, 11)[1:-1]))
    bucket = np.searchsorted(edges, length, side="right")
    sizes = np.bincount(bucket, minlength=len(edges) + 1).astype(float)
    raw = np.bincount(bucket, weights=engaged.astype(float), minlength=len(edges) + 1) / np.maximum(sizes, 1)
    filled = sizes > 0
    per_bucket = raw.copy()
    per_bucket[filled] = isotonic_regression(raw[filled], weights=sizes[filled], increasing=True).x
    expected = np.clip(np.where(unknown, share, per_bucket[bucket]), 1e-3, 1 - 1e-3)
    ghost = np.array([s.heartbeats == 0 and (s.left is None or s.left - s.joined > 2 * interval)
                      for s in sessions])
    total_ghosts = int(ghost.sum())
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, s in enumerate(sessions):
        if s.address_hash:
            groups[("address", s.address_hash)].append(i)
        if s.device_hash:
            groups[("device", s.device_hash)].append(i)
    minute = np.array([int(s.joined // 60) for s in sessions])
    values, counts = np.unique(minute, return_counts=True)
    median = float(np.median(counts))
    mad = max(float(np.median(np.abs(counts - median))), 1.0)
    steps = values[(counts >= STEP_MIN_JOINS) & (counts > median + STEP_MADS * mad)]
    for m in steps.tolist():
        groups[("join_minute", str(m * 60))] = np.flatnonzero(minute == m).tolist()
    hits: list[dict] = []
    flagged: set[int] = set()
    best_p = 1.0
    for (kind, key), idx in groups.items():
        n = len(idx)
        if n < MIN_GROUP:
            continue
        k = int(engaged[idx].sum())
        # Binomial with the group's mean expected chance: close to the exact Poisson-binomial tail here.
        p = float(binom.cdf(k, n, float(expected[idx].mean())))
        # Sessions that never heartbeat yet stay counted: the group's share against everyone else's.
        g = int(ghost[idx].sum())
        if g:
            outside = max((total_ghosts - g) / max(len(sessions) - n, 1), 1e-3)
            p = min(p, float(binom.sf(g - 1, n, outside)))
        if p > P_MAX:
            continue
        silent = [i for i in idx if not engaged[i]]
        if kind == "join_minute":
            # A minute's crowd also holds real lurkers who came then; only its ghosts are named.
            silent = [i for i in silent if ghost[i]]
        ghosts = sum(1 for i in silent if sessions[i].heartbeats == 0
                     and (sessions[i].left is None or sessions[i].left - sessions[i].joined > 2 * interval))
        flagged.update(silent)
        best_p = min(best_p, p)
        hits.append({"group": kind, "key": key, "sessions": n, "engaged": k, "p_value": p,
                     "never_heartbeat": ghosts})
    if not flagged:
        return []
    chosen = [sessions[i] for i in sorted(flagged)]
    hits.sort(key=lambda h: h["p_value"])
    return [flag(
        abuse="inflated_traffic", detector=DETECTOR, score=score_from_p(best_p), stream_id=stream_id,
        session_ids=[s.id for s in chosen], account_ids=[s.account_id for s in chosen],
        evidence={
            "why": "many sessions from one address, one device or one join minute, and almost none of them "
                   "chat, like or click while the stream's audience does",
            "stream_engaged_share": round(share, 4), "groups": hits[:50], "groups_flagged": len(hits),
            "sessions_flagged": len(chosen),
            "never_heartbeat": sum(1 for s in chosen if s.heartbeats == 0),
            "heartbeat_interval_s": round(interval, 1),
        })]


def _displayed_count(stream, sessions: list[Session], interval: float) -> dict | None:  # noqa: ANN001
    if not stream.reported:
        return None
    joined = np.sort(np.array([s.joined for s in sessions])) if sessions else np.array([])
    # Alive at t: joined by t, and seen (heartbeat, event or leave) no earlier than t - 2 intervals.
    seen = np.sort(np.array([s.last_seen for s in sessions])) if sessions else np.array([])
    times = np.array([t for t, _ in stream.reported])
    shown = np.array([r for _, r in stream.reported], dtype=float)
    alive = np.searchsorted(joined, times, side="right") - np.searchsorted(seen, times - 2 * interval, side="left")
    alive = np.maximum(alive, 0)
    mask = shown >= 20
    if mask.sum() < 3:
        return None
    ratio = float(shown[mask].sum() / max(alive[mask].sum(), 1))
    if ratio < COUNT_RATIO:
        return None
    return flag(
        abuse="inflated_traffic", detector=COUNT_DETECTOR, score=min(1.0, (ratio - 1.0)), stream_id=stream.id,
        evidence={
            "why": "the displayed viewer count is well above the sessions alive at the time",
            "displayed_over_alive": round(ratio, 3), "minutes_compared": int(mask.sum()),
            "peak_displayed": int(shown.max()), "peak_alive": int(alive.max()),
            "curve": [[float(t), int(r), int(a)] for t, r, a in zip(times[::5], shown[::5], alive[::5], strict=True)][:300],
        })

"""The demo world (`zhunong seed_demo`) and the one-command embedded platform (`zhunong serve`), on top of
every app: both put the apps together, so no app depends on them."""

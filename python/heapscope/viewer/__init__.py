"""heapscope's viewer: a local web page over snapshots and profiles, and static reports."""

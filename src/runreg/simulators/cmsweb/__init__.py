"""A simulated cmsweb: ReqMgr2 workflows moving through their statuses, DBS datasets growing, wmstats."""

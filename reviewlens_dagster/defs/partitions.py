"""Partitions (one dynamic partition per restaurant) and what every partitioned stage shares."""

import dagster as dg

RESTAURANTS = "restaurants"
restaurants_partitions = dg.DynamicPartitionsDefinition(name=RESTAURANTS)
single_run = dg.BackfillPolicy.single_run()

#: every job that writes DuckDB / the embedded Qdrant store carries this tag; dagster.yaml's
#: run queue lets one such run at a time (DuckDB and Qdrant Edge allow one writer process).
WRITER_TAGS = {"reviewlens/writer": "local"}
OWNERS = ["team:reviewlens"]

#: declarative automation of every stage below `reviews`: a partition refreshes when an upstream
#: partition changed and the upstream's blocking checks passed (or the upstream runs in the same
#: run, where a failing blocking check stops it); nothing runs while an upstream partition is
#: missing or in progress. The sensor on the incoming folder only materializes `reviews`.
UPSTREAM_CHECKS_PASSED = dg.AutomationCondition.all_deps_match(
    dg.AutomationCondition.all_checks_match(dg.AutomationCondition.check_passed(), blocking_only=True)
    | dg.AutomationCondition.will_be_requested()
).with_label("upstream blocking checks passed")
EAGER = (dg.AutomationCondition.eager() & UPSTREAM_CHECKS_PASSED).with_label("eager, upstream checks passed")

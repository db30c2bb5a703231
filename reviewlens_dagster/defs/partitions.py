"""Partitions: one dynamic partition per restaurant."""

import dagster as dg

RESTAURANTS = "restaurants"
restaurants_partitions = dg.DynamicPartitionsDefinition(name=RESTAURANTS)
single_run = dg.BackfillPolicy.single_run()

#: every job that writes DuckDB / the embedded Qdrant store carries this tag; dagster.yaml's
#: run queue lets one such run at a time (DuckDB and Qdrant Edge allow one writer process).
WRITER_TAGS = {"reviewlens/writer": "local"}
OWNERS = ["team:reviewlens"]

"""Dagster definitions: per source, a partitioned asset (one partition per company), its job,
its schedule, a retry policy, a freshness policy and a per-company freshness check.

How many runs of a source run at once is the run queue's job (`instance_yaml.py` writes the
limits from the same fleet file); Dagster's UI shows each company's partition, its runs,
retries and last materialization.
"""

# No `from __future__ import annotations`: Dagster reads the context annotations at runtime.
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster import AssetCheckExecutionContext, AssetExecutionContext, ScheduleEvaluationContext

from .fleet import Fleet, Source, load_fleet
from .meltano_job import run_company

SOURCE_TAG = "qbc/source"
COMPANY_TAG = "qbc/company"


def _sync_asset(fleet: Fleet, source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{source.name}_companies",
        group_name=source.name,
        description=f"{source.extractor} into {source.loader}, one Meltano job per company.",
        partitions_def=dg.StaticPartitionsDefinition(list(source.companies)),
        retry_policy=dg.RetryPolicy(max_retries=source.retries, delay=30,
                                    backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(minutes=source.fresh_within_minutes)),
        kinds={"meltano"},
        op_tags={SOURCE_TAG: source.name},
    )
    def sync(context: AssetExecutionContext) -> dg.MaterializeResult:
        outcome = run_company(fleet, source, context.partition_key, context.log)
        return dg.MaterializeResult(metadata={
            "company": context.partition_key,
            "meltano_state_id": outcome.state_id,
            "seconds": round(outcome.seconds, 1),
        })

    return sync


def _freshness_check(source: Source, asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name="every_company_fresh", blocking=False,
                    description=f"Each company synced within {source.fresh_within_minutes} minutes.")
    def every_company_fresh(context: AssetCheckExecutionContext) -> dg.AssetCheckResult:
        now = datetime.now(UTC)
        behind: dict[str, str] = {}
        for company in source.companies:
            records = context.instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=asset.key, asset_partitions=[company]), limit=1)
            if not records.records:
                behind[company] = "never synced"
                continue
            synced = datetime.fromtimestamp(records.records[0].timestamp, UTC)
            lag = now - synced
            if lag > timedelta(minutes=source.fresh_within_minutes):
                behind[company] = f"{int(lag.total_seconds() // 60)} min behind"
        return dg.AssetCheckResult(
            passed=not behind,
            metadata={"companies_behind": len(behind), "behind": dg.MetadataValue.json(behind)},
        )

    return every_company_fresh


def build_definitions(fleet: Fleet) -> dg.Definitions:
    assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    jobs: list[dg.UnresolvedAssetJobDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    for source in fleet.sources:
        asset = _sync_asset(fleet, source)
        check = _freshness_check(source, asset)
        # The sync job runs one company; the freshness check looks at all of them, on its own job.
        job = dg.define_asset_job(f"{source.name}_sync", selection=dg.AssetSelection.assets(asset).without_checks(),
                                  partitions_def=asset.partitions_def, tags={SOURCE_TAG: source.name})
        freshness_job = dg.define_asset_job(f"{source.name}_freshness", selection=dg.AssetSelection.checks(check))

        def every_company(context: ScheduleEvaluationContext, source: Source = source) -> list[dg.RunRequest]:
            return [dg.RunRequest(partition_key=company, tags={COMPANY_TAG: company})
                    for company in source.companies]

        schedules.append(dg.ScheduleDefinition(
            name=f"{source.name}_every_company", cron_schedule=source.cron, job=job,
            execution_fn=every_company, default_status=dg.DefaultScheduleStatus.STOPPED))
        schedules.append(dg.ScheduleDefinition(
            name=f"{source.name}_freshness_every_15_minutes", cron_schedule="*/15 * * * *",
            job=freshness_job, default_status=dg.DefaultScheduleStatus.STOPPED))
        assets.append(asset)
        checks.append(check)
        jobs.extend([job, freshness_job])
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=jobs, schedules=schedules)


defs = build_definitions(load_fleet())

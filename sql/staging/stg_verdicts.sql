-- stg_verdicts: one row per reviewer verdict on an account (lake/verdicts), deduplicated.
--
-- Verdicts arrive as files in lake/verdicts_inbox/ and are appended by the model-maintenance
-- job (models.maintenance.ingest_verdicts); the same verdict delivered twice counts once.
-- `is_latest` marks each account's most recent decision.

with

source as (

    select * from read_parquet(
        lake_path('verdicts/*.parquet'),
        union_by_name = true,
        allow_empty = true
    )
    union all by name
    select * from contract.verdicts

),

deduplicated as (

    select distinct
        account_id,
        label,
        decided_at

    from source

),

final as (

    select
        *,
        row_number() over (
            partition by account_id order by decided_at desc, label
        ) = 1 as is_latest

    from deduplicated

)

select * from final

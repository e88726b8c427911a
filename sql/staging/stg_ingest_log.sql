-- stg_ingest_log: one row per batch the lake writer committed (lake/ingest_log).
--
-- For every batch `n_accepted + n_rejected = n_consumed`; the data-quality checks
-- reconcile these counts with the rows in the lake.

with

source as (

    select * from read_json(
        lake_path('ingest_log/topic=*/partition=*/*.json'),
        columns = {
            'topic': 'varchar',
            'partition': 'integer',
            'first_offset': 'bigint',
            'last_offset': 'bigint',
            'consumed': 'bigint',
            'accepted': 'bigint',
            'rejected': 'bigint',
            'files': 'varchar[]',
            'written_at': 'timestamptz'
        },
        hive_partitioning = false,
        allow_empty = true
    )
    union all by name
    select * from contract.ingest_log

),

final as (

    select
        topic as source_topic,
        partition as source_partition,
        first_offset,
        last_offset,
        consumed as n_consumed,
        accepted as n_accepted,
        rejected as n_rejected,
        len(files) as n_files,
        written_at,
        rejected / nullif(consumed, 0) as rejected_share

    from source

)

select * from final

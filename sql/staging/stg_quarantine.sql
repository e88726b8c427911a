-- stg_quarantine: one row per rejected message (lake/quarantine), without its raw bytes.
--
-- The raw message may hold prompt text, so analysts see its size and the rejection
-- reason only; operators replay from the Parquet files themselves. `reason_code` is the
-- reason without its variable details (field values, sizes), for grouping.

with

source as (

    select * from read_parquet(
        lake_path('quarantine/topic=*/partition=*/*.parquet'),
        hive_partitioning = true,
        hive_types = {'topic': varchar, 'partition': integer},
        union_by_name = true,
        allow_empty = true
    )
    union all by name
    select * from contract.quarantine

),

renamed as (

    select
        source_topic,
        source_partition,
        source_offset,
        reason,
        octet_length(raw) as n_raw_bytes,
        quarantined_at

    from source

),

final as (

    select
        *,
        trim(regexp_replace(reason, '\s*\(.*\)$|\s+-?\d+$', '')) as reason_code,
        cast(quarantined_at as date) as quarantined_date

    from renamed

)

select * from final

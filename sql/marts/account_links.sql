-- account_links: what pairs of accounts share, over every day of the lake, one row per pair and
-- kind of evidence (template, lsh, payment, ip, prefix, asn_ua, sync).
--
-- Daily edge tables (lake/features/links) are combined as in features.links: weights by
-- noisy-OR, 1 - prod(1 - weight), so each further day of shared evidence raises it.

with

source as (

    select * from read_parquet(
        lake_path('features/links/date=*/*.parquet'),
        hive_partitioning = true,
        hive_types = {'date': date},
        union_by_name = true,
        allow_empty = true
    )
    union all by name
    select * from contract.links

),

final as (

    select
        account_a,
        account_b,
        kind,
        1 - product(1 - weight) as weight,
        sum(n_shared) as n_shared,
        count(distinct date) as n_days,
        min(first_seen) as first_seen_at,
        max(last_seen) as last_seen_at

    from source
    where account_a is not null
    group by account_a, account_b, kind

)

select * from final

-- fct_account_daily: behavioural features of each account in each UTC day, one row per account
-- and day (lake/features/account_daily, built by the daily rescoring DAG).
--
-- Same columns as fct_account_hourly over a day; `time_hour_entropy` (flat 24/7 activity) is
-- meaningful here. Feature columns and units are documented in features/FEATURES.md.

with

source as (

    select * from read_parquet(
        lake_path('features/account_daily/date=*/*.parquet'),
        hive_partitioning = true,
        hive_types = {'date': date},
        union_by_name = true,
        allow_empty = true
    )
    union all by name
    select * from contract.account_daily

),

final as (

    select
        account_id,
        date as event_date,
        * exclude (account_id, window_start, date)

    from source
    where account_id is not null

)

select * from final

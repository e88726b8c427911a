-- fct_account_hourly: behavioural features of each account in each event-time hour, one row per
-- account and hour (lake/features/account_hourly, built by the hourly features DAG).
--
-- Feature columns and units are documented in features/FEATURES.md.

with

source as (

    select * from read_parquet(
        lake_path('features/account_hourly/date=*/hour=*/*.parquet'),
        hive_partitioning = true,
        hive_types = {'date': date, 'hour': integer},
        union_by_name = true,
        allow_empty = true
    )
    union all by name
    select * from contract.account_hourly

),

final as (

    select
        account_id,
        window_start as hour_start_at,
        date as event_date,
        hour as hour_of_day_utc,
        * exclude (account_id, window_start, date, hour)

    from source
    where account_id is not null

)

select * from final

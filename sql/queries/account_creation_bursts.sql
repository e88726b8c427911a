-- account_creation_bursts: accounts created per period, campaign accounts against the rest;
-- campaigns register their accounts in bursts.
--
-- param $period = day: length of a period, a date_trunc unit (hour, day, week)
-- param $days = 30: how far back from the lake's last request to look

with

accounts as (

    select * from dim_accounts

),

recent_accounts as (

    select *
    from accounts
    where account_created_at
        >= (select max(last_seen_at) from accounts) - to_days(cast($days as integer))

),

final as (

    select
        date_trunc($period, account_created_at) as period_start_at,
        count(*) filter (where campaign_id is not null) as n_campaign_accounts,
        count(*) filter (where campaign_id is null) as n_other_accounts

    from recent_accounts
    group by period_start_at
    order by period_start_at

)

select * from final

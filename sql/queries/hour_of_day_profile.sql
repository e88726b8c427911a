-- hour_of_day_profile: share of each group's requests in each UTC hour of the day: campaign
-- accounts, flagged accounts outside campaigns, and accounts not flagged. Scripts harvesting
-- 24/7 are flat where human and business traffic follows the day.

with

events as (

    select * from stg_events

),

accounts as (

    select * from dim_accounts

),

grouped_events as (

    select
        events.hour_of_day_utc,
        case
            when accounts.campaign_id is not null then 'campaign'
            else accounts.account_group
        end as account_group

    from events
    inner join accounts on events.account_id = accounts.account_id

),

final as (

    select
        account_group,
        hour_of_day_utc,
        count(*) as n_requests,
        count(*) / sum(count(*)) over (partition by account_group) as requests_share

    from grouped_events
    group by account_group, hour_of_day_utc
    order by account_group, hour_of_day_utc

)

select * from final

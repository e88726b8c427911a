-- model_share_timeline: hour by hour, the share of each account group's requests on each model
-- (groups as in dim_accounts.account_group). A campaign pivoting to a newly released model moves
-- most of its traffic to it within hours; organic traffic follows over days.

with

events as (

    select * from stg_events

),

accounts as (

    select * from dim_accounts

),

grouped_events as (

    select
        date_trunc('hour', events.requested_at) as hour_start_at,
        accounts.account_group,
        events.model

    from events
    inner join accounts on events.account_id = accounts.account_id

),

final as (

    select
        hour_start_at,
        account_group,
        model,
        count(*) as n_requests,
        count(*) / sum(count(*)) over (partition by hour_start_at, account_group)
            as requests_share

    from grouped_events
    group by hour_start_at, account_group, model
    order by hour_start_at, account_group, model

)

select * from final

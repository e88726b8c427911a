-- model_pivot: how fast each group of accounts moved to each model: per account group (as in
-- dim_accounts), the hours between a model's first appearance in the lake and the group's first
-- request to it, and the group's share of requests on it.

with

events as (

    select * from stg_events

),

accounts as (

    select * from dim_accounts

),

model_release as (

    select
        model,
        min(requested_at) as model_first_seen_at

    from events
    group by model

),

grouped_events as (

    select
        events.model,
        events.requested_at,
        accounts.account_group

    from events
    inner join accounts on events.account_id = accounts.account_id

),

usage as (

    select
        account_group,
        model,
        min(requested_at) as first_used_at,
        count(*) as n_requests

    from grouped_events
    group by account_group, model

),

final as (

    select
        usage.account_group,
        usage.model,
        model_release.model_first_seen_at,
        usage.first_used_at,
        date_diff('minute', model_release.model_first_seen_at, usage.first_used_at) / 60.0
            as adoption_hours,
        usage.n_requests,
        usage.n_requests / sum(usage.n_requests) over (partition by usage.account_group)
            as requests_share

    from usage
    inner join model_release on usage.model = model_release.model
    order by model_release.model_first_seen_at, usage.account_group

)

select * from final

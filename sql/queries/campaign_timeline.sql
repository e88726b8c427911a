-- campaign_timeline: hour by hour, what one campaign's accounts did: requests, active and newly
-- seen accounts, models and output tokens.
--
-- param $campaign_id: the campaign (see top_campaigns)

with

flags as (

    select * from flags where campaign_id = $campaign_id

),

events as (

    select * from stg_events

),

campaign_events as (

    select events.*
    from events
    inner join flags on events.account_id = flags.account_id

),

first_requests as (

    select
        account_id,
        date_trunc('hour', min(requested_at)) as first_hour_at

    from campaign_events
    group by account_id

),

hourly as (

    select
        date_trunc('hour', requested_at) as hour_start_at,
        count(*) as n_requests,
        count(distinct account_id) as n_active_accounts,
        count(distinct model) as n_models,
        sum(completion_tokens) as completion_tokens,
        avg(cot_score) as mean_cot_score

    from campaign_events
    group by hour_start_at

),

arrivals as (

    select
        first_hour_at as hour_start_at,
        count(*) as n_new_accounts

    from first_requests
    group by first_hour_at

),

final as (

    select
        hourly.*,
        coalesce(arrivals.n_new_accounts, 0) as n_new_accounts

    from hourly
    left join arrivals on hourly.hour_start_at = arrivals.hour_start_at
    order by hourly.hour_start_at

)

select * from final

-- run_summary: the published run at a glance, one row: traffic in the lake, flags by tier,
-- campaigns, and rejected messages.

with

events as (

    select * from stg_events

),

flags as (

    select * from flags

),

campaigns as (

    select * from campaigns

),

quarantine as (

    select * from stg_quarantine

),

traffic as (

    select
        count(*) as n_requests,
        count(distinct account_id) as n_accounts,
        min(requested_at) as first_request_at,
        max(requested_at) as last_request_at

    from events

),

flagged as (

    select
        count(*) as n_flagged_accounts,
        count(*) filter (where tier = 'high') as n_high_tier,
        count(*) filter (where tier = 'medium') as n_medium_tier,
        count(*) filter (where tier = 'low') as n_low_tier,
        count(*) filter (where is_in_campaign) as n_campaign_accounts

    from flags

),

final as (

    select
        traffic.*,
        flagged.*,
        (select count(*) from campaigns) as n_campaigns,
        (select count(*) from quarantine) as n_quarantined

    from traffic
    cross join flagged

)

select * from final

-- dim_accounts: one row per account seen in the lake: identity, activity, infrastructure,
-- its current flag (from the published rescoring run) and its latest reviewer verdict.
--
-- `account_group` is the campaign id of a flagged campaign account, else 'flagged, no campaign'
-- or 'not flagged': the grouping of the campaign comparisons in sql/queries.

with

events as (

    select * from stg_events

),

flags as (

    select * from flags

),

verdicts as (

    select * from stg_verdicts where is_latest

),

activity as (

    select
        account_id,
        any_value(org_id) as org_id,
        any_value(signup_channel) as signup_channel,
        min(account_created_at) as account_created_at,
        min(requested_at) as first_seen_at,
        max(requested_at) as last_seen_at,
        count(*) as n_requests,
        sum(completion_tokens) as completion_tokens,
        count(distinct api_key_id) as n_api_keys,
        count(distinct model) as n_models,
        count(distinct payment_fingerprint) as n_payment_fingerprints,
        mode(payment_fingerprint) as payment_fingerprint,
        count(distinct ip_prefix) as n_ip_prefixes,
        count(distinct country) as n_countries,
        mode(user_agent) as user_agent,
        avg(is_hosting_network::integer) as hosting_network_share,
        avg(cot_score) as mean_cot_score

    from events
    group by account_id

),

final as (

    select
        activity.*,
        date_diff('hour', activity.account_created_at, activity.first_seen_at) / 24.0
            as account_age_at_first_request_days,
        flags.account_id is not null as is_flagged,
        case
            when flags.account_id is null then 'not flagged'
            when flags.campaign_id is null then 'flagged, no campaign'
            else flags.campaign_id
        end as account_group,
        flags.score,
        flags.tier,
        flags.campaign_id,
        flags.first_flagged_at,
        flags.top_reason_code,
        verdicts.label as verdict_label,
        verdicts.decided_at as verdict_decided_at

    from activity
    left join flags on activity.account_id = flags.account_id
    left join verdicts on activity.account_id = verdicts.account_id

)

select * from final

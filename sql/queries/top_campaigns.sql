-- top_campaigns: the largest campaigns of the published run, with their scores and tiers.
--
-- param $limit = 20: number of campaigns to list

with

campaigns as (

    select * from campaigns

),

final as (

    select
        campaign_id,
        score,
        n_accounts,
        n_flagged_accounts,
        n_high_tier_accounts,
        n_requests,
        first_seen_at,
        last_seen_at,
        active_hours,
        n_shared_payment_fingerprints,
        n_shared_network_prefixes,
        n_shared_user_agents

    from campaigns
    order by n_accounts desc, score desc, campaign_id
    limit cast($limit as integer)

)

select * from final

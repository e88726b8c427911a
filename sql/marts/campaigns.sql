-- campaigns: the coordinated campaigns of the published rescoring run, one row each, with the
-- tiers of their flagged accounts and the counts of shared indicators.
--
-- `indicators` is the export's JSON object (shared payment fingerprints, network prefixes and
-- user agents, value -> accounts; `evidence` quantities); the `n_shared_*` columns count its
-- values.

with

source as (

    select * from read_parquet(export_path('campaigns.parquet'), allow_empty = true)
    union all by name
    select * from contract.campaigns

),

flags as (

    select * from flags

),

campaign_flags as (

    select
        campaign_id,
        count(*) as n_flagged_accounts,
        count(*) filter (where tier = 'high') as n_high_tier_accounts,
        avg(score) as mean_account_score,
        min(first_flagged_at) as first_flagged_at

    from flags
    where is_in_campaign
    group by campaign_id

),

final as (

    select
        source.campaign_id,
        source.score,
        source.n_accounts,
        source.n_requests,
        source.first_seen as first_seen_at,
        source.last_seen as last_seen_at,
        date_diff('minute', source.first_seen, source.last_seen) / 60.0 as active_hours,
        coalesce(campaign_flags.n_flagged_accounts, 0) as n_flagged_accounts,
        coalesce(campaign_flags.n_high_tier_accounts, 0) as n_high_tier_accounts,
        campaign_flags.mean_account_score,
        campaign_flags.first_flagged_at,
        len(json_keys(source.indicators, '$.payment_fingerprints'))
            as n_shared_payment_fingerprints,
        len(json_keys(source.indicators, '$.network_prefixes')) as n_shared_network_prefixes,
        len(json_keys(source.indicators, '$.user_agents')) as n_shared_user_agents,
        source.indicators

    from source
    left join campaign_flags on source.campaign_id = campaign_flags.campaign_id
    where source.campaign_id is not null

)

select * from final

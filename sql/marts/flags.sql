-- flags: the flagged accounts of the published rescoring run (export contract v1), one row each.
--
-- Reads exports/latest/flagged_accounts.parquet (or the run chosen with
-- `distillwatch sql --run DIR`). `top_reason_code` is the most important reason.

with

source as (

    select * from read_parquet(export_path('flagged_accounts.parquet'), allow_empty = true)
    union all by name
    select * from contract.flagged_accounts

),

final as (

    select
        account_id,
        score,
        tier,
        campaign_id,
        first_flagged_at,
        reasons,
        own_score,
        campaign_score,
        n_requests,
        first_seen as first_seen_at,
        last_seen as last_seen_at,
        campaign_id is not null as is_in_campaign,
        tier = 'high' as is_high_tier,
        split_part(split_part(reasons, ';', 1), ':', 1) as top_reason_code,
        len(string_split(reasons, ';')) as n_reasons,
        date_diff('minute', first_seen, first_flagged_at) / 60.0 as hours_to_flag

    from source
    where account_id is not null

)

select * from final

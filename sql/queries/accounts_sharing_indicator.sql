-- accounts_sharing_indicator: every account whose requests carry one indicator value, with its
-- activity and current flag.
--
-- param $indicator: payment_fingerprint, ip_prefix, client_ip, user_agent, asn, template_sig
--     or system_prompt_hash
-- param $value: the value, as text (template signatures as 16 hex digits)

with

events as (

    select * from stg_events

),

flags as (

    select * from flags

),

indicator_values as (

    select
        account_id,
        requested_at,
        case $indicator
            when 'payment_fingerprint' then payment_fingerprint
            when 'ip_prefix' then ip_prefix
            when 'client_ip' then client_ip
            when 'user_agent' then user_agent
            when 'asn' then asn::varchar
            when 'template_sig' then printf('%016x', template_sig)
            when 'system_prompt_hash' then printf('%016x', system_prompt_hash)
            else error('unknown indicator ' || $indicator)
        end as indicator_value

    from events

),

matches as (

    select
        account_id,
        count(*) as n_requests_with_value,
        min(requested_at) as first_seen_at,
        max(requested_at) as last_seen_at

    from indicator_values
    where indicator_value = $value
    group by account_id

),

final as (

    select
        matches.*,
        flags.tier,
        flags.score,
        flags.campaign_id

    from matches
    left join flags on matches.account_id = flags.account_id
    order by matches.n_requests_with_value desc, matches.account_id

)

select * from final

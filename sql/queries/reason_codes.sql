-- reason_codes: how often each reason code explains a flag, by tier and as the top reason.

with

flags as (

    select * from flags

),

reasons as (

    select
        flags.account_id,
        flags.tier,
        reason.position as reason_rank,
        split_part(reason.text, ':', 1) as reason_code

    from flags,
        unnest(string_split(flags.reasons, ';')) with ordinality as reason(text, position)

),

final as (

    select
        reason_code,
        count(distinct account_id) as n_accounts,
        count(distinct account_id) filter (where reason_rank = 1) as n_accounts_top_reason,
        count(distinct account_id) filter (where tier = 'high') as n_high_tier_accounts

    from reasons
    group by reason_code
    order by n_accounts desc, reason_code

)

select * from final

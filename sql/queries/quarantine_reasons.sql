-- quarantine_reasons: why messages were rejected, most frequent first, with volumes and time range.

with

quarantine as (

    select * from stg_quarantine

),

final as (

    select
        reason_code,
        count(*) as n_messages,
        count(*) / sum(count(*)) over () as messages_share,
        avg(n_raw_bytes) as mean_raw_bytes,
        min(quarantined_at) as first_quarantined_at,
        max(quarantined_at) as last_quarantined_at,
        any_value(reason) as example_reason

    from quarantine
    group by reason_code
    order by n_messages desc, reason_code

)

select * from final

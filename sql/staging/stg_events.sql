-- stg_events: one row per request accepted into the lake (lake/events), without prompt text.
--
-- Columns keep the names of the api_access_log v1 contract, except the event time `ts`
-- (`requested_at`) and the Hive partition keys (`event_date`, `event_hour`). Prompt and
-- system-prompt text are never selected, even when the lake keeps them.

with

source as (

    select * from read_parquet(
        lake_path('events/date=*/hour=*/*.parquet'),
        hive_partitioning = true,
        hive_types = {'date': date, 'hour': integer},
        union_by_name = true,
        allow_empty = true
    )
    union all by name
    select * from contract.events

),

renamed as (

    select
        -- ids
        event_id,
        account_id,
        org_id,
        api_key_id,

        -- request
        model,
        endpoint,
        status as status_code,
        prompt_tokens,
        completion_tokens,
        latency_ms,
        temperature,
        top_p,
        max_tokens,
        n as n_completions,
        logprobs as is_logprobs_requested,
        top_logprobs,
        logit_bias_size,
        stream as is_streamed,
        tool_count,

        -- network and client
        client_ip,
        asn,
        asn_org,
        asn_kind,
        country,
        user_agent,

        -- account
        payment_fingerprint,
        signup_channel,
        account_created_at,

        -- content signals computed at ingest (no text)
        prompt_simhash,
        prompt_chars,
        prompt_hash,
        template_sig,
        template_tail_sig,
        prompt_lsh,
        system_prompt_hash,
        cot_score,
        rubric_score,
        reconstruct_score,
        topic,

        -- provenance
        source_topic,
        source_partition,
        source_offset,
        ingested_at,

        -- time
        ts as requested_at,
        date as event_date,
        hour as event_hour

    from source

),

final as (

    select
        *,
        status_code >= 400 as is_error,
        status_code = 429 as is_rate_limited,
        asn_kind in ('hosting', 'proxy') as is_hosting_network,
        completion_tokens >= max_tokens as is_output_capped,
        extract('hour' from requested_at at time zone 'UTC')::integer as hour_of_day_utc,
        -- routing prefix, spelled like features.windows.network_prefix: a.b.c.0/24, x:y:z::/48
        case
            when client_ip like '%.%'
                then rtrim(regexp_replace(client_ip, '^::ffff:', ''), '0123456789') || '0/24'
            when client_ip like '%:%'
                then array_to_string(
                    list_transform(
                        (string_split(split_part(lower(client_ip), '::', 1), ':')
                            || ['0', '0', '0'])[1:3],
                        lambda hextet: coalesce(nullif(ltrim(hextet, '0'), ''), '0')
                    ),
                    ':'
                ) || '::/48'
        end as ip_prefix

    from renamed

)

select * from final

"""distillwatch: streaming detection of distillation and model-extraction campaigns.

The stages live in top-level packages named for the flow of data:
``ingest`` (Kafka -> Parquet lake), ``features`` (polars feature jobs),
``models`` (online scoring, campaign detection, exports), ``dags`` (Airflow)
and ``sql`` (DuckDB views). This package holds what belongs to no stage:
the settings object and the command-line interface.
"""

__version__ = "0.1.0"

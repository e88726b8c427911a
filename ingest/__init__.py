"""Ingest: the local Kafka broker, replay into Kafka, and the Kafka -> Parquet lake writer.

Data flows ``produce`` (file -> Kafka) -> ``lake_writer`` (Kafka -> validated,
content-fingerprinted Parquet under ``lake/events``; rejects to
``lake/quarantine`` and a dead-letter topic).
"""

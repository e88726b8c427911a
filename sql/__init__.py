"""The DuckDB SQL of the analyst layer, shipped as package data.

``staging/`` and ``marts/`` hold one view per file (dbt style), ``queries/``
the saved analyst queries; :mod:`distillwatch.analyst` loads them from the
folder of this package, so an installed wheel carries them along.
"""

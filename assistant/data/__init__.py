"""Data layer: loading + validating products/reviews/sales files and the SQLite catalog store.

Heavy work stays in the submodules; import from here for the common entry points::

    from assistant.data import Catalog, load_table, LoadResult
"""

from assistant.data.catalog import Catalog
from assistant.data.loaders import LoadResult, load_table, validate_frame

__all__ = ["Catalog", "LoadResult", "load_table", "validate_frame"]

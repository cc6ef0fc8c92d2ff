"""Singer target for Databricks SQL warehouses (Unity Catalog tables)."""

import logging

# Before any module imports databricks-sql-connector: it logs every HTTP round trip at INFO
# ("Received status code 200 for POST request", two lines per statement) and, imported without
# pyarrow, a WARNING that Arrow fetches are off. This target fetches no Arrow results (volume
# staging imports pyarrow itself and says when it is missing). The connector's own warnings and
# errors still show.
logging.getLogger("databricks.sql").setLevel(logging.WARNING)
logging.getLogger("databricks.sql.client").addFilter(lambda record: "pyarrow is not installed" not in str(record.msg))

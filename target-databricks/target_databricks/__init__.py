"""Singer target for Databricks SQL warehouses (Unity Catalog tables)."""

"""target-powerbi: a Singer target that loads QuickBooks data into Power BI push datasets."""

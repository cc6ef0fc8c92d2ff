"""Singer target loading QuickBooks records into the warehouse Looker queries."""

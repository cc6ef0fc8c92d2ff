"""target-salesforce: a Singer target that upserts QuickBooks data into Salesforce."""

from sandboxes.salesforce.fixtures import salesforce_config, salesforce_sandbox

__all__ = ["salesforce_config", "salesforce_sandbox"]

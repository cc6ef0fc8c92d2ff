from sandboxes.powerbi.fixtures import powerbi_config, powerbi_sandbox

__all__ = ["powerbi_config", "powerbi_sandbox"]

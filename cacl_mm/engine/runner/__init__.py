from .monitor_val_loop import MonitorValLoop

__all__ = ['MonitorValLoop']

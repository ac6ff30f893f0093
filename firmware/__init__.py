"""The controller's ARM-SoC firmware model: it sees the hardware only through the mailbox port."""

# daemon/daemon.mk

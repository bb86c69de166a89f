# python/python.mk -- the debugger-independent Python core
# (python/corodbg), installed once for both adapters: the GDB and LLDB
# install targets depend on it instead of one installing it for the other.
.PHONY: install-python-core
install-python-core:
	install -d $(DESTDIR)$(PREFIX)/share/corodbg/python/corodbg/core
	install -m 644 python/corodbg/*.py \
	  $(DESTDIR)$(PREFIX)/share/corodbg/python/corodbg/
	install -m 644 python/corodbg/core/*.py \
	  $(DESTDIR)$(PREFIX)/share/corodbg/python/corodbg/core/
INSTALL += install-python-core

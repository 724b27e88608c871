# One static program per *.c of the including directory, linked against
# libl4u-server.a and libl4u.a (a program takes what it uses of them), so
# that they run in the test guests' busybox initramfs as they are.
#   make O=<outdir> LIBL4U=<dir with libl4u.a> [STATIC=]   (STATIC= links libc dynamically)
# A program built from more than its own file names the others in a
# target-specific EXTRA_SRCS (and as prerequisites) in the including Makefile.
O ?= $(CURDIR)/build
TOP := $(abspath $(CURDIR)/..)
LIBL4U ?= $(TOP)/libl4u/build
CC ?= gcc
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -I$(TOP)/libl4u/include -I$(TOP)/uapi
STATIC ?= -static
LDFLAGS += $(STATIC)

PROGS := $(patsubst %.c,$(O)/%,$(wildcard *.c))
LIBS := $(LIBL4U)/libl4u-server.a $(LIBL4U)/libl4u.a

all: $(PROGS)

$(O)/%: %.c $(LIBS) $(wildcard $(TOP)/libl4u/include/l4u/*.h) | $(O)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(EXTRA_SRCS) $(LIBS)

$(O):
	mkdir -p $@

clean:
	rm -rf $(O)

.PHONY: all clean

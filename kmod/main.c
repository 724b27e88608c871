// SPDX-License-Identifier: GPL-2.0
/*
 * l4u: L4 address spaces for Linux. The /dev/l4 device, module parameters
 * and global counters.
 */
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "l4u.h"

struct l4_counters l4_counters;

/* Global frame limit; set to half of RAM at load time if not given. */
unsigned long l4_max_frames;
module_param_named(max_frames, l4_max_frames, ulong, 0644);
MODULE_PARM_DESC(max_frames, "most frames (pages) all spaces together may hold (default: half of RAM)");

/*
 * A sender spins for its answer before it sleeps (gate.c): twice what a
 * wake-up has cost lately (l4_wake_ns, measured), at most spin_ns.
 */
unsigned int l4_spin_ns = 500000;
module_param_named(spin_ns, l4_spin_ns, uint, 0644);
MODULE_PARM_DESC(spin_ns, "the longest a faulter or caller spins for its answer before it sleeps, in ns, per phase: queued, and held by a running receiver (0: never)");
unsigned int l4_max_inflight = 4096;
module_param_named(max_inflight, l4_max_inflight, uint, 0644);
MODULE_PARM_DESC(max_inflight, "most messages one gate may hold received and not yet answered (receive: EBUSY beyond; at most 2^24)");
unsigned long l4_wake_ns = 50000;
module_param_named(wake_ns, l4_wake_ns, ulong, 0444);
MODULE_PARM_DESC(wake_ns, "what waking a sleeping sender has cost lately, in ns (moving average); a sender spins up to twice that");

static void l4_fill_stats(struct l4_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->spaces = atomic_long_read(&l4_counters.spaces);
	st->frames = atomic_long_read(&l4_counters.frames);
	st->max_frames = READ_ONCE(l4_max_frames);
	st->nodes = atomic_long_read(&l4_counters.nodes);
	st->windows = atomic_long_read(&l4_counters.windows);
	st->frames_allocated = atomic_long_read(&l4_counters.frames_allocated);
	st->frames_freed = atomic_long_read(&l4_counters.frames_freed);
	st->kernel_faults = atomic_long_read(&l4_counters.kernel_faults);
	st->limit_faults = atomic_long_read(&l4_counters.limit_faults);
	st->maps = atomic_long_read(&l4_counters.maps);
	st->grants = atomic_long_read(&l4_counters.grants);
	st->unmaps = atomic_long_read(&l4_counters.unmaps);
	st->revoked = atomic_long_read(&l4_counters.revoked);
	st->gates = atomic_long_read(&l4_counters.gates);
	st->threads = atomic_long_read(&l4_counters.threads);
	st->messages = atomic_long_read(&l4_counters.messages);
	st->replies = atomic_long_read(&l4_counters.replies);
	st->pager_faults = atomic_long_read(&l4_counters.pager_faults);
	st->faultaround_pages = atomic_long_read(&l4_counters.faultaround_pages);
}

static long l4_version_ioctl(struct l4_version __user *uarg)
{
	struct l4_version v = {
		.major		= L4_ABI_MAJOR,
		.minor		= L4_ABI_MINOR,
		.features	= L4_FEATURES_KNOWN,
	};

	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long l4_stats_ioctl(struct l4_stats __user *uarg)
{
	struct l4_stats st;

	l4_fill_stats(&st);
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long l4_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case L4_IOC_VERSION:
		return l4_version_ioctl(uarg);
	case L4_IOC_CREATE_SPACE:
		return l4_space_create_ioctl(uarg);
	case L4_IOC_STATS:
		return l4_stats_ioctl(uarg);
	case L4_IOC_CREATE_GATE:
		return l4_gate_create_ioctl(arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations l4_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= l4_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice l4_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "l4",
	.fops	= &l4_dev_fops,
	.mode	= 0660,	/* the udev rule hands it to group l4 */
};

static int __init l4_init(void)
{
	int err;

	if (!l4_max_frames)
		l4_max_frames = totalram_pages() / 2;

	err = l4_frame_init();
	if (err)
		return err;
	err = l4_mapdb_init();
	if (err)
		goto err_frame;
	err = l4_space_init();
	if (err)
		goto err_mapdb;
	err = l4_netlink_init();
	if (err)
		goto err_space;
	err = misc_register(&l4_miscdev);
	if (err)
		goto err_netlink;
	pr_info("l4u: /dev/l4 ready (ABI %d.%d, max_frames %lu)\n",
		L4_ABI_MAJOR, L4_ABI_MINOR, l4_max_frames);
	return 0;

err_netlink:
	l4_netlink_exit();
err_space:
	l4_space_exit();
err_mapdb:
	l4_mapdb_exit();
err_frame:
	l4_frame_exit();
	return err;
}

static void __exit l4_exit(void)
{
	misc_deregister(&l4_miscdev);
	l4_netlink_exit();
	l4_space_exit();
	l4_mapdb_exit();
	l4_frame_exit();
	l4_gate_exit();
}

module_init(l4_init);
module_exit(l4_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The l4u developers");
MODULE_DESCRIPTION("L4 address spaces, pagers and a mapping database for Linux");

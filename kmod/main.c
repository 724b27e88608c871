// SPDX-License-Identifier: GPL-2.0
/*
 * l4u: L4 address spaces for Linux. Loading and unloading the module: the
 * objects' caches and tables, the netlink family, and /dev/l4 (whose files
 * and ioctls are abi.c's).
 */
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "l4u.h"

static struct miscdevice l4_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "l4",
	.fops	= &l4_dev_fops,
	.mode	= 0660,	/* the udev rule hands it to group l4 */
};

static int __init l4_init(void)
{
	int err;

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

// SPDX-License-Identifier: GPL-2.0
/*
 * l4u: L4 address spaces for Linux. Loading and unloading the module: the
 * objects' caches and tables, the netlink family, and /dev/l4 (whose files
 * and ioctls are abi.c's).
 */
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "l4u.h"

/*
 * A fixed minor, so that /dev/l4 can exist before the module is loaded:
 * depmod turns the devname: alias below into modules.devname, from which
 * kmod's static-nodes (systemd-tmpfiles-setup-dev) creates the node at boot,
 * and the first open of it loads l4.ko (misc_open() asks for
 * char-major-10-<minor>, which only it does for minors below
 * MISC_DYNAMIC_MINOR). Dynamic minors cannot do that: they are handed out
 * at registration. 243-254 are "reserved for local use" in
 * Documentation/admin-guide/devices.txt (no driver of 6.1 or 6.12 takes
 * one); 6.1 hands out dynamic minors below 128, 6.12 above 255. Should
 * another local driver hold it already, /dev/l4 gets a dynamic minor.
 */
#define L4_MISC_MINOR	248

static struct miscdevice l4_miscdev = {
	.minor	= L4_MISC_MINOR,
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
	err = l4_space_init();
	if (err)
		goto err_frame;
	err = l4_netlink_init();
	if (err)
		goto err_space;
	err = misc_register(&l4_miscdev);
	if (err == -EBUSY) {
		pr_warn("l4u: misc minor %d is taken, /dev/l4 gets a dynamic one (no loading on first open)\n",
			L4_MISC_MINOR);
		l4_miscdev.minor = MISC_DYNAMIC_MINOR;
		err = misc_register(&l4_miscdev);
	}
	if (err)
		goto err_netlink;
	pr_info("l4u: /dev/l4 ready (ABI %d.%d, max_frames %lu)\n",
		L4_ABI_MAJOR, L4_ABI_MINOR, l4_max_frames);
	return 0;

err_netlink:
	l4_netlink_exit();
err_space:
	l4_space_exit();
err_frame:
	l4_frame_exit();
	return err;
}

static void __exit l4_exit(void)
{
	misc_deregister(&l4_miscdev);
	l4_netlink_exit();
	l4_space_exit();
	l4_frame_exit();
}

module_init(l4_init);
module_exit(l4_exit);

MODULE_LICENSE("GPL");
MODULE_ALIAS_MISCDEV(L4_MISC_MINOR);
MODULE_ALIAS("devname:l4");
MODULE_AUTHOR("The l4u developers");
MODULE_DESCRIPTION("L4 address spaces, pagers and a mapping database for Linux");

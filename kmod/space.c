// SPDX-License-Identifier: GPL-2.0
/*
 * Spaces (L4 tasks): creation, the space file, and teardown.
 *
 * Every space gets its own inode on a private pseudo filesystem, so that all
 * windows of one space, in every process, share one address_space:
 * unmap_mapping_range() on it reaches every PTE of the space. (Files from
 * anon_inode_getfile() share a single inode and could not do that.)
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "l4u.h"

#define L4U_FS_MAGIC	0x4c345546	/* "L4UF" */

static struct vfsmount *l4_mnt;
static DEFINE_XARRAY_ALLOC(l4_spaces);	/* id -> space, for introspection */
static atomic64_t l4_next_space_id = ATOMIC64_INIT(0);
static const struct file_operations l4_space_fops;

/*
 * The last reference: by now the space file is gone and the space was
 * flushed; what remained were pins of revocations in flight.
 */
static void l4_space_destroy(struct kref *ref)
{
	struct l4_space *space = container_of(ref, struct l4_space, ref);

	WARN_ON_ONCE(atomic_long_read(&space->nodes));
	WARN_ON_ONCE(atomic_long_read(&space->frames));
	WARN_ON_ONCE(!xa_empty(&space->entries));
	xa_destroy(&space->entries);
	/* faulters that slept may still leave verdicts until their last put */
	xa_destroy(&space->verdicts);
	iput(space->inode);
	put_pid(space->owner);
	atomic_long_dec(&l4_counters.spaces);
	kfree(space);
}

void l4_space_put(struct l4_space *space)
{
	kref_put(&space->ref, l4_space_destroy);
}

/*
 * The last fd and the last window are gone: nothing can reach the space's
 * entries any more except revocations from other spaces' trees. Flush it
 * (revoking all that was derived from it) while the file's reference still
 * keeps it alive, then drop that reference.
 */
static int l4_space_release(struct inode *inode, struct file *file)
{
	struct l4_space *space = file->private_data;

	/* NULL for a space whose creation failed: nobody saw it */
	if (xa_erase(&l4_spaces, space->id) == space)
		l4_ev_space(space, false);
	/* no new entries from here on (see l4_slot_insert) */
	WRITE_ONCE(space->dead, true);
	smp_mb();	/* pairs with l4_slot_insert(): store dead, then read entries */
	l4_space_flush_all(space);
	l4_space_release_threads(space);
	l4_space_put(space);
	return 0;
}

/* The space behind @file, or NULL if @file is no space file. */
struct l4_space *l4_space_from_file(struct file *file)
{
	return file->f_op == &l4_space_fops ? file->private_data : NULL;
}

/*
 * The live space with the lowest id >= *@id, with a reference, its id in
 * *@id; NULL if there is none. A space in the table is still held by its
 * file, so under the table's lock a reference can always be taken.
 */
struct l4_space *l4_space_get_next(u64 *id)
{
	unsigned long index = *id;
	struct l4_space *space;

	xa_lock(&l4_spaces);
	space = xa_find(&l4_spaces, &index, ULONG_MAX, XA_PRESENT);
	if (space)
		kref_get(&space->ref);
	xa_unlock(&l4_spaces);
	*id = index;
	return space;
}

static long l4_space_info_ioctl(struct l4_space *space,
				struct l4_space_info __user *uarg)
{
	struct l4_space_info info = {
		.id		= space->id,
		.size		= (u64)space->pages << PAGE_SHIFT,
		.max_frames	= space->max_frames,
		.frames		= atomic_long_read(&space->frames),
		.nodes		= atomic_long_read(&space->nodes),
		.windows	= atomic_read(&space->windows),
		.flags		= space->flags,
		.maps		= atomic_long_read(&space->maps),
		.grants		= atomic_long_read(&space->grants),
		.unmaps		= atomic_long_read(&space->unmaps),
		.revoked	= atomic_long_read(&space->revoked),
	};

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long l4_space_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct l4_space *space = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case L4_IOC_SPACE_INFO:
		return l4_space_info_ioctl(space, uarg);
	case L4_IOC_MAP:
		return l4_map_ioctl(space, uarg);
	case L4_IOC_UNMAP:
		return l4_unmap_ioctl(space, uarg);
	case L4_IOC_SET_PAGER:
		return l4_set_pager_ioctl(space, uarg);
	case L4_IOC_THREAD_CONTROL:
		return l4_thread_control_ioctl(space, uarg);
	default:
		return -ENOTTY;
	}
}

static int l4_space_mmap(struct file *file, struct vm_area_struct *vma)
{
	return l4_window_mmap(file->private_data, vma);
}

static const struct file_operations l4_space_fops = {
	.owner		= THIS_MODULE,
	.release	= l4_space_release,
	.unlocked_ioctl	= l4_space_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= l4_space_mmap,
	.llseek		= noop_llseek,
};

static int l4_space_check(const struct l4_space_create *req)
{
	if (req->flags & ~L4_SPACE_FLAGS_KNOWN || req->pad || req->id ||
	    !l4_reserved_zero(req->reserved, ARRAY_SIZE(req->reserved)))
		return -EINVAL;
	if (!req->size || req->size > L4_SPACE_MAX_SIZE ||
	    !IS_ALIGNED(req->size, PAGE_SIZE))
		return -EINVAL;
	return 0;
}

static struct l4_space *l4_space_alloc(const struct l4_space_create *req)
{
	struct l4_space *space;
	int err;

	/* the owner's event sequence (netlink.c) exists before its spaces */
	err = l4_ev_owner_add(current_euid());
	if (err)
		return ERR_PTR(err);
	space = kzalloc(sizeof(*space), L4_GFP_META);
	if (!space)
		return ERR_PTR(-ENOMEM);
	kref_init(&space->ref);
	space->flags = req->flags;
	space->pages = req->size >> PAGE_SHIFT;
	space->max_frames = req->max_frames;
	xa_init(&space->entries);
	xa_init(&space->threads);
	xa_init(&space->verdicts);
	space->owner_uid = current_euid();
	space->owner = get_task_pid(current, PIDTYPE_TGID);

	space->inode = alloc_anon_inode(l4_mnt->mnt_sb);
	if (IS_ERR(space->inode)) {
		err = PTR_ERR(space->inode);
		put_pid(space->owner);
		kfree(space);
		return ERR_PTR(err);
	}
	space->inode->i_private = space;
	/* ids are never reused while the module is loaded */
	space->id = atomic64_inc_return(&l4_next_space_id);
	atomic_long_inc(&l4_counters.spaces);
	return space;
}

/*
 * L4_IOC_CREATE_SPACE. Publishing comes last: the id table slot is only
 * reserved (invisible to lookups) until the fd is installed, so a failure
 * on the way unwinds a space nobody has seen. Until fd_install() the file
 * is ours alone, and its release copes with a space never published.
 */
long l4_space_create_ioctl(struct l4_space_create __user *uarg)
{
	struct l4_space_create req;
	struct l4_space *space;
	struct file *file;
	int fd, err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	err = l4_space_check(&req);
	if (err)
		return err;

	space = l4_space_alloc(&req);
	if (IS_ERR(space))
		return PTR_ERR(space);

	err = xa_reserve(&l4_spaces, space->id, L4_GFP_META);
	if (err)
		goto err_space;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_unreserve;
	}

	/* the file will hold its own inode reference; the space keeps one */
	ihold(space->inode);
	/*
	 * alloc_file_pseudo() does not take a module reference for the fops,
	 * but the final fput() drops one: take it here.
	 */
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(space->inode, l4_mnt, "l4-space",
				 O_RDWR | O_LARGEFILE, &l4_space_fops);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		module_put(THIS_MODULE);
		iput(space->inode);
		goto err_fd;
	}
	file->private_data = space;

	req.id = space->id;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/* the file owns the space (and the reserved slot) now */
		put_unused_fd(fd);
		fput(file);
		return -EFAULT;
	}
	/* a reserved slot needs no memory: this cannot fail */
	xa_store(&l4_spaces, space->id, space, 0);
	fd_install(fd, file);
	l4_ev_space(space, true);
	return fd;

err_fd:
	put_unused_fd(fd);
err_unreserve:
	xa_release(&l4_spaces, space->id);
err_space:
	l4_space_put(space);
	return err;
}

static int l4_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, L4U_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * Not registered and without an owner: kern_mount() would otherwise pin
 * this module through the superblock and rmmod could never succeed. Every
 * space file pins the module instead, so the mount outlives them all.
 */
static struct file_system_type l4_fs_type = {
	.name		 = "l4u",
	.init_fs_context = l4_fs_init_fs_context,
	.kill_sb	 = kill_anon_super,
};

int l4_space_init(void)
{
	l4_mnt = kern_mount(&l4_fs_type);
	return PTR_ERR_OR_ZERO(l4_mnt);
}

void l4_space_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&l4_spaces));
	kern_unmount(l4_mnt);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Spaces (L4 tasks): the object, its inode, its id, its lifetime.
 *
 * Every space gets its own inode on a private pseudo filesystem, so that all
 * windows of one space, in every process, share one address_space:
 * unmap_mapping_range() on it reaches every PTE of the space. (Files from
 * anon_inode_getfile() share a single inode and could not do that.)
 *
 * A space is made in three steps (abi.c): l4_space_alloc() reserves its id
 * in the table (invisible to lookups), l4_space_file() makes its file, and
 * l4_space_publish() enters it in the table just before its fd is
 * installed. A failure on the way unwinds a space nobody has seen.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pid.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>

#include "observe.h"

#define L4U_FS_MAGIC	0x4c345546	/* "L4UF" */

static struct vfsmount *l4_mnt;
static DEFINE_XARRAY_ALLOC(l4_spaces);	/* id -> space, for introspection */
static atomic64_t l4_next_space_id = ATOMIC64_INIT(0);

/*
 * The last reference: by now the space file is gone and the space was
 * flushed; what remained were pins of revocations and faults in flight.
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
	kfree(space->spare_node);
	iput(space->inode);
	put_pid(space->owner);
	l4_count_dec(spaces);
	kfree(space);
}

void l4_space_put(struct l4_space *space)
{
	if (space)
		kref_put(&space->ref, l4_space_destroy);
}

/*
 * A new space of @size bytes, its id reserved in the table but not visible
 * there. Undo with l4_space_unreserve() and l4_space_put().
 */
struct l4_space *l4_space_alloc(u64 size, u64 max_frames, u32 flags)
{
	struct l4_space *space;
	int err;

	/* the owner's event sequence (netlink.c) exists before its spaces */
	err = l4_obs_owner_add(current_euid());
	if (err)
		return ERR_PTR(err);
	space = kzalloc(sizeof(*space), L4_GFP_META);
	if (!space)
		return ERR_PTR(-ENOMEM);
	kref_init(&space->ref);
	space->flags = flags;
	space->pages = size >> PAGE_SHIFT;
	space->max_frames = max_frames;
	xa_init(&space->entries);
	xa_init(&space->threads);
	xa_init(&space->verdicts);
	space->owner_uid = current_euid();
	space->owner = get_task_pid(current, PIDTYPE_TGID);

	space->inode = alloc_anon_inode(l4_mnt->mnt_sb);
	if (IS_ERR(space->inode)) {
		err = PTR_ERR(space->inode);
		goto err_free;
	}
	space->inode->i_private = space;
	/* the core maps a superpage with a PMD only within i_size */
	i_size_write(space->inode, size);
	/* ids are never reused while the module is loaded */
	space->id = atomic64_inc_return(&l4_next_space_id);
	err = xa_reserve(&l4_spaces, space->id, L4_GFP_META);
	if (err)
		goto err_inode;
	l4_count_inc(spaces);
	return space;

err_inode:
	iput(space->inode);
err_free:
	put_pid(space->owner);
	kfree(space);
	return ERR_PTR(err);
}

/*
 * The space's file, with @fops: it takes over the caller's reference (its
 * release must drop it), takes one on the inode and one on the module.
 */
struct file *l4_space_file(struct l4_space *space,
			   const struct file_operations *fops)
{
	struct file *file;

	ihold(space->inode);
	/*
	 * alloc_file_pseudo() does not take a module reference for the fops,
	 * but the final fput() drops one: take it here.
	 */
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(space->inode, l4_mnt, "l4-space",
				 O_RDWR | O_LARGEFILE, fops);
	if (IS_ERR(file)) {
		module_put(THIS_MODULE);
		iput(space->inode);
		return file;
	}
	file->private_data = space;
	return file;
}

/* Enter @space in the table: cannot fail, its slot is reserved. */
void l4_space_publish(struct l4_space *space)
{
	xa_store(&l4_spaces, space->id, space, 0);
	l4_obs_space(space, true);
}

/* Undo l4_space_alloc()'s reservation of a space never published. */
void l4_space_unreserve(struct l4_space *space)
{
	xa_release(&l4_spaces, space->id);
}

/*
 * Take @space out of the table, or its reservation if it never was
 * published (then nobody saw it come, so nobody hears it go).
 */
void l4_space_unpublish(struct l4_space *space)
{
	if (xa_erase(&l4_spaces, space->id) == space)
		l4_obs_space(space, false);
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

/*
 * Windows may execute what a space holds (L4's X right; window.c enforces
 * it per window), so the mount is not SB_I_NOEXEC, which newer kernels'
 * init_pseudo() sets (7.3 does, 6.12 does not: mmap(PROT_EXEC) would be
 * EPERM). No one can exec or open a file of this mount by path anyway.
 */
static int l4_fs_init_fs_context(struct fs_context *fc)
{
	if (!init_pseudo(fc, L4U_FS_MAGIC))
		return -ENOMEM;
	fc->s_iflags &= ~SB_I_NOEXEC;
	return 0;
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

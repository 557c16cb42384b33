/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Open a mediated device's VFIO device file as a VM's QEMU does: its
 * IOMMU group, a type1 container, then the device.  Shared by the guest
 * tools (selfvirt-vfio, selfvirt-mdev-fuzz).
 */
#ifndef VFIO_OPEN_H
#define VFIO_OPEN_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

struct vfio_open {
    int container, group, device;
};

/*
 * Open mdev @uuid into @o; 0, or -1 with errno set and @what naming the
 * step that failed.  vfio_close() undoes it.
 */
static inline int vfio_open_mdev(struct vfio_open *o, const char *uuid,
                                 const char **what)
{
    struct vfio_group_status status = { .argsz = sizeof(status) };
    char path[PATH_MAX], link[PATH_MAX];
    ssize_t n;

    o->container = o->group = o->device = -1;
    *what = "/dev/vfio/vfio";
    o->container = open("/dev/vfio/vfio", O_RDWR);
    if (o->container < 0)
        return -1;
    *what = "VFIO API version";
    if (ioctl(o->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
        errno = EPROTO;
        return -1;
    }
    *what = "the mdev's iommu_group";
    snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
    n = readlink(path, link, sizeof(link) - 1);
    if (n < 0)
        return -1;
    link[n] = 0;
    if (!strrchr(link, '/')) {
        errno = EINVAL;
        return -1;
    }
    snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
    *what = "the group's /dev/vfio file";
    o->group = open(path, O_RDWR);
    if (o->group < 0)
        return -1;
    *what = "group not viable";
    if (ioctl(o->group, VFIO_GROUP_GET_STATUS, &status) ||
        !(status.flags & VFIO_GROUP_FLAGS_VIABLE))
        return -1;
    *what = "container";
    if (ioctl(o->group, VFIO_GROUP_SET_CONTAINER, &o->container) ||
        ioctl(o->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
        return -1;
    *what = "VFIO_GROUP_GET_DEVICE_FD";
    o->device = ioctl(o->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
    return o->device < 0 ? -1 : 0;
}

static inline void vfio_close(struct vfio_open *o)
{
    if (o->device >= 0)
        close(o->device);
    if (o->group >= 0)
        close(o->group);
    if (o->container >= 0)
        close(o->container);
    o->container = o->group = o->device = -1;
}

#endif

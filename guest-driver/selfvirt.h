/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selfvirt: Linux driver for the self-virtualizing NIC (QEMU selfvirt-nic)
 */
#ifndef _SELFVIRT_H_
#define _SELFVIRT_H_

#include <linux/pci.h>
#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>
#include <linux/timekeeping.h>
#include <linux/version.h>
#include <net/devlink.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>	/* Linux 6.1 */
#endif
#if IS_ENABLED(CONFIG_VFIO_MDEV)
#include <linux/mdev.h>
#endif
#include "selfvirt/selfvirt_abi.h"	/* the device model's: one ABI */

/* Linux 6.1 (Debian 12's default kernel) calls it PCI_IRQ_LEGACY */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

#define SELFVIRT_DRV_NAME	"selfvirt"
/* frames in the send queue's data area start on cache lines */
#define SELFVIRT_RX_BUF_DEFAULT	2048	/* copied slots, mdevs */
#define SELFVIRT_TX_ALIGN	64
/* send-queue data room that always holds the largest frame, aligned */
#define SELFVIRT_TX_ROOM	(65536 + 2 * SELFVIRT_TX_ALIGN)

struct selfvirt_board;
struct selfvirt_mdev;
struct selfvirt_vif;

/* Why the board halted a VIF's send queue (SELFVIRT_CMD_VIF_STATUS) */
struct selfvirt_halt {
	bool halted;
	u32 reason;		/* enum selfvirt_halt_reason */
	u32 index;		/* the descriptor's */
	u32 desc[4];		/* its words as posted */
};

/**
 * struct selfvirt_port - a VIF as a devlink port (devlink_port.c)
 * @dl: the devlink port: flavour pcisf, sfnum and index the VIF slot
 * @board: the board
 * @index: the VIF slot
 * @vif: the VIF if an interface's, else NULL
 * @md: the mediated device if the VIF is a VM's, else NULL
 * @tx_reporter: the "tx" health reporter (interface VIFs)
 * @rate_mbps: the egress cap devlink set, 0 for none; the board forgets it
 *	with the VIF, so every new bind of the slot sets it again (under
 *	vif_lock)
 */
struct selfvirt_port {
	struct devlink_port dl;
	struct selfvirt_board *board;
	unsigned int index;
	struct selfvirt_vif *vif;
	struct selfvirt_mdev *md;
	struct devlink_health_reporter *tx_reporter;
	u32 rate_mbps;
};

/* A VIF's queues as bound to the board: the VIF_CREATE arguments and answer */
struct selfvirt_vif_binding {
	u32 index;		/* in: slot or SELFVIRT_VIF_ANY; out: slot */
	u8 mac[ETH_ALEN];	/* in: all zero for the board's choice; out */
	u32 tx_entries;
	u32 rx_entries;
	u32 rx_buf;
	unsigned int win_first;
	unsigned int win_count;
	u32 part_off;		/* out: the SDRAM partition */
	u32 part_size;
	u32 signal_gap_us;	/* in: set after the create (ATTR_SIGNAL_GAP) */
};

/* MSI-X mode: a VIF slot's two vectors, requested by whoever owns the slot */
struct selfvirt_vectors {
	bool requested;
	char name[2][IFNAMSIZ + 8];	/* transmit done, received */
};

/*
 * Host costs, the paper's section 4.3.1: time spent and events, counted
 * only with the module parameter cost_stats (two clock reads per event).
 * Each has one writer: the transmit path, NAPI, or an interrupt handler.
 */
struct selfvirt_cost {
	u64 ns;
	u64 events;
};

extern bool selfvirt_cost_stats;

/* When a costed event starts: a clock reading, or 0 when not counting. */
static inline u64 selfvirt_cost_start(void)
{
	return READ_ONCE(selfvirt_cost_stats) ? ktime_get_ns() : 0;
}

/* @events since @start, if selfvirt_cost_start() read the clock. */
static inline void selfvirt_cost_end(struct selfvirt_cost *c, u64 start,
				     u64 events)
{
	if (start && events) {
		c->ns += ktime_get_ns() - start;
		c->events += events;
	}
}

struct selfvirt_vif_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

/* A receive queue of posted buffers: a pool of pages (rx_pool.c). */
struct selfvirt_rx_pool {
	u32 pages;		/* 0: the paper's fixed slots, copied */
	size_t first;		/* the first page's offset in the queue */
	u32 next;		/* where the search for a free page goes on */
	u32 *slot_page;		/* the page posted in each slot */
	unsigned long *posted;	/* pages in slots */
};

/* One VIF: its queues, as the paper's domU VIF driver sees them. */
struct selfvirt_vif {
	struct selfvirt_board *board;
	struct net_device *netdev;
	struct napi_struct napi;
	unsigned int index;
	struct work_struct rx_mode_work;	/* mailbox: may sleep */
	struct selfvirt_port *port;	/* none for a VIF function's */
	bool inactive;		/* devlink port function state inactive */
	bool quiesced;		/* detached, NAPI off: reset, restart, inactive */
	unsigned long halted;	/* bit 0: the board halted the send queue */
	struct work_struct halt_work;	/* reports it: mailbox, devlink */
	struct selfvirt_halt halt;	/* the last halt the board told */

	/* send queue, in the board's SDRAM (write-combining, never read) */
	void __iomem *part;
	u32 tx_entries;
	u32 tx_prod;
	u32 tx_cons;		/* as last published by the board */
	u32 data_size;		/* bytes of the partition's data area */
	u32 data_head;		/* next free byte */
	u32 data_tail;		/* first byte still in use */
	u32 *tx_end;		/* data_head after each descriptor */
	u32 *tx_len;

	/* receive queue, in host memory, reached by the board via windows */
	void *rq;
	dma_addr_t rq_dma;
	size_t rq_size;
	u32 rx_entries;
	u32 rx_buf;
	u32 rx_chain;		/* slots one frame may span (SELFVIRT_ATTR_RX_CHAIN) */
	u32 rx_cons;
	u32 signal_gap_us;	/* the board's signal moderation: ethtool -C */
	unsigned int win_first;
	unsigned int win_count;
	struct selfvirt_rx_pool pool;

	spinlock_t signal_lock;	/* signal_enable, polling, tx_waiting */
	u32 signal_enable;	/* as last written to the board */
	bool polling;		/* NAPI owns the VIF: no signals */
	bool tx_waiting;	/* queue stopped: signal transmit-done */
	struct selfvirt_vectors vectors;	/* also names the function's MSI */

	void __iomem *doorbell;	/* the board's DOORBELL, or the function's */
	u32 doorbell_val;	/* what to write there */

	struct selfvirt_vif_stats rx_stats;
	struct selfvirt_vif_stats tx_stats;
	u64 rx_dropped;		/* too large, or malformed descriptor */
	u64 rx_in_place;	/* frames to the stack in their buffers */
	u64 rx_copied;		/* frames copied out of the ring */
	bool bad_index;		/* the board's ring index was impossible */
	u64 tx_refused;		/* frames the board would halt on: dropped */
	atomic64_t tx_gso_soft;	/* TSO frames the stack cut (MSS) */
	u64 doorbells;
	u64 polls;
	u64 redundant_polls;	/* in vain: empty poll, signal while polling */
	u64 empty_polls;	/* polls that found nothing */
	struct selfvirt_cost cost_send;	/* a frame into the send queue */
	struct selfvirt_cost cost_recv;	/* a frame out of the receive queue */
	struct selfvirt_cost cost_vector; /* its MSI-X vectors' handler */
};

/* The board, as the management (the paper's dom0) driver sees it. */
struct selfvirt_board {
	struct pci_dev *pdev;
	void __iomem *csr;
	void __iomem *sdram;		/* write-combining */
	resource_size_t sdram_len;
	void __iomem *doorbell_page;	/* VIF function: BAR1, or NULL */
	struct mutex mbox_lock;		/* one mailbox command at a time */
	/*
	 * VIF table changes.  Creating, destroying and resetting VIFs is
	 * serialized by the devlink instance lock, taken before RTNL and this.
	 */
	struct mutex vif_lock;

	u32 caps;
	u32 max_vifs;
	u32 engines;
	u32 contexts;
	u32 win_entries;
	u32 irq_width;
	u32 irq_width_max;	/* the board's at probe */
	u32 irq_mode;
	u32 max_frame;
	u32 part_size;
	u32 win_shift;
	u8 base_mac[ETH_ALEN];
	bool nic_mode;
	bool promisc;		/* devlink param "promiscuous" */
	bool no_mbox;		/* a VIF function (function.c) has none */
	bool health_reports;	/* devlink registered: halts are reported */

	/* VIFs of probe and reload, queue geometry of new VIFs (module parameters) */
	u32 vifs;
	u32 tx_entries;
	u32 rx_entries;
	u32 rx_buf;		/* copied slots' and mdevs' */
	bool rx_buf_auto;	/* not set: a page for posted buffers */

	int nvec;
	unsigned long win_used[BITS_TO_LONGS(SELFVIRT_WIN_ENTRIES)];
	/* a VIF slot belongs to an interface, to a mediated device or to none */
	struct selfvirt_vif *vif[SELFVIRT_WIN_ENTRIES];
	struct selfvirt_mdev *mdev[SELFVIRT_WIN_ENTRIES];
	/* and a devlink port, under the instance lock */
	struct selfvirt_port *port[SELFVIRT_WIN_ENTRIES];
#if IS_ENABLED(CONFIG_VFIO_MDEV)
	struct mdev_parent mdev_parent;
	struct mdev_type mdev_type;
	struct mdev_type *mdev_types[1];
	/* registered at a probe or reload into selfvirt mode, until remove */
	bool mdev_registered;
#endif
	u64 irqs;
	u64 irqs_none;
	struct selfvirt_cost cost_master; /* identifier: read, clear, demux */
};

static inline u32 selfvirt_rd(struct selfvirt_board *b, u32 reg)
{
	return ioread32(b->csr + reg);
}

static inline void selfvirt_wr(struct selfvirt_board *b, u32 reg, u32 val)
{
	iowrite32(val, b->csr + reg);
}

/* A VIF's queues as the driver reaches them */
static inline struct selfvirt_rq_status *
selfvirt_rq_status(struct selfvirt_vif *vif)
{
	return vif->rq;
}

static inline void selfvirt_ctrl_wr(struct selfvirt_vif *vif, unsigned int off,
				    u32 v)
{
	iowrite32(v, vif->part + off);
}

static inline void selfvirt_doorbell(struct selfvirt_vif *vif)
{
	vif->doorbells++;
	iowrite32(vif->doorbell_val, vif->doorbell);
}

/* board.c */
struct selfvirt_board *selfvirt_board_alloc(struct pci_dev *pdev);
void selfvirt_board_init(struct selfvirt_board *b, struct pci_dev *pdev);
int selfvirt_board_map(struct selfvirt_board *b);
void selfvirt_board_unmap(struct selfvirt_board *b);
int selfvirt_board_identify(struct selfvirt_board *b);
int selfvirt_board_set_mode(struct selfvirt_board *b);
int selfvirt_board_setup(struct selfvirt_board *b);
int selfvirt_board_reinit(struct selfvirt_board *b);
int selfvirt_board_reset(struct selfvirt_board *b);
int selfvirt_board_create_vifs(struct selfvirt_board *b);
int selfvirt_board_probe_vifs(struct selfvirt_board *b);
void selfvirt_board_destroy_vifs(struct selfvirt_board *b);

/* irq.c */
int selfvirt_irq_setup(struct selfvirt_board *b);
void selfvirt_irq_teardown(struct selfvirt_board *b);
int selfvirt_vectors_request(struct selfvirt_board *b, unsigned int index,
			     struct selfvirt_vectors *v, const char *prefix,
			     irq_handler_t handler, void *data);
void selfvirt_vectors_free(struct selfvirt_board *b, unsigned int index,
			   struct selfvirt_vectors *v, void *data);

/* sysfs.c */
extern const struct attribute_group selfvirt_board_group;

/* devlink.c */
struct selfvirt_board *selfvirt_devlink_alloc(struct pci_dev *pdev);
int selfvirt_devlink_register(struct selfvirt_board *b);
void selfvirt_devlink_unregister(struct selfvirt_board *b);

/* devlink_port.c */
struct selfvirt_port *selfvirt_port_create(struct selfvirt_board *b, int index);
int selfvirt_port_bind_vif(struct selfvirt_port *port, struct selfvirt_vif *vif);
void selfvirt_port_bind_mdev(struct selfvirt_port *port, struct selfvirt_mdev *md);
void selfvirt_port_destroy(struct selfvirt_board *b, unsigned int index);
void selfvirt_port_netdev_set(struct selfvirt_vif *vif);
void selfvirt_port_netdev_clear(struct selfvirt_vif *vif);
#ifndef SET_NETDEV_DEVLINK_PORT	/* Linux 6.1 */
struct devlink_port *selfvirt_port_of_netdev(struct net_device *netdev);
#endif

/* health.c */
void selfvirt_vif_tx_halted(struct selfvirt_vif *vif);

/* function.c: the VIF function, one VIF as a VM sees it */
extern struct pci_driver selfvirt_function_driver;

/* mbox.c */
int selfvirt_mbox(struct selfvirt_board *b, u32 cmd, const u32 *args,
		  unsigned int nargs, u32 *res, unsigned int nres);

int selfvirt_mbox_vif_create(struct selfvirt_board *b,
			     struct selfvirt_vif_binding *q);
int selfvirt_mbox_signal_gap(struct selfvirt_board *b, u32 index, u32 us);
int selfvirt_signal_gap_check(struct selfvirt_board *b, u32 us);

/* window.c */
void selfvirt_windows_program(struct selfvirt_board *b, unsigned int first,
			      unsigned int count, dma_addr_t dma, bool valid);
bool selfvirt_windows_available(struct selfvirt_board *b, size_t size);
int selfvirt_windows_get(struct selfvirt_board *b, dma_addr_t dma, size_t size,
			 unsigned int *count);
void selfvirt_windows_put(struct selfvirt_board *b, unsigned int first,
			  unsigned int count);

/* vif.c */
int selfvirt_vif_create(struct selfvirt_board *b, int index, u32 tx_entries,
			u32 rx_entries, u32 rx_buf);
void selfvirt_vif_destroy(struct selfvirt_board *b, unsigned int index);
int selfvirt_vif_remove(struct selfvirt_board *b, unsigned int index,
			struct netlink_ext_ack *extack);
int selfvirt_vif_apply_rate(struct selfvirt_board *b, unsigned int index);
int selfvirt_vif_set_rate(struct selfvirt_board *b, unsigned int index,
			  u32 mbps, struct netlink_ext_ack *extack);
int selfvirt_vif_set_active(struct selfvirt_vif *vif, bool active);
int selfvirt_vif_restart(struct selfvirt_vif *vif);
int selfvirt_vif_create_function(struct selfvirt_board *b, void *rq,
				 size_t rq_size, u32 queues, u32 rx_buf,
				 u32 rx_chain, const u8 *mac);
void selfvirt_vif_destroy_function(struct selfvirt_board *b);
void selfvirt_vif_quiesce(struct selfvirt_vif *vif);
int selfvirt_vif_restore(struct selfvirt_vif *vif);
u32 selfvirt_vif_rx_chain_max(struct selfvirt_vif *vif);
bool selfvirt_vif_rq_fits(struct selfvirt_vif *vif, u32 rx_entries);
void selfvirt_vif_set_max_mtu(struct selfvirt_vif *vif);
int selfvirt_vif_set_queues(struct selfvirt_vif *vif, u32 tx, u32 rx,
			    u32 **tx_end, u32 **tx_len);

/* napi.c */
void selfvirt_update_signals(struct selfvirt_vif *vif, int polling,
			     int tx_waiting);
void selfvirt_vif_bad_index(struct selfvirt_vif *vif, const char *which,
			    u32 val, u32 mine);
int selfvirt_poll(struct napi_struct *napi, int budget);
void selfvirt_vif_signal(struct selfvirt_vif *vif);
irqreturn_t selfvirt_vif_msix(int irq, void *data);

/* tx.c */
unsigned int selfvirt_tx_clean(struct selfvirt_vif *vif);
netdev_features_t selfvirt_features_check(struct sk_buff *skb,
					  struct net_device *dev,
					  netdev_features_t features);
netdev_tx_t selfvirt_start_xmit(struct sk_buff *skb, struct net_device *dev);

/* rx.c */
int selfvirt_rx(struct selfvirt_vif *vif, int budget);

/* rx_pool.c */
size_t selfvirt_rx_pool_size(u32 rx_entries);
bool selfvirt_rx_pool_wanted(struct selfvirt_board *b, u32 rx_buf);
u32 selfvirt_rx_pool_slot_size(struct selfvirt_board *b);
int selfvirt_rx_pool_alloc(struct selfvirt_vif *vif);
void selfvirt_rx_pool_free(struct selfvirt_vif *vif);
u32 selfvirt_rx_pool_unheld(struct selfvirt_vif *vif);
bool selfvirt_rx_pool_take(struct selfvirt_vif *vif, u32 n, u32 *pages);
void selfvirt_rx_pool_untake(struct selfvirt_vif *vif, u32 n, const u32 *pages);
void selfvirt_rx_pool_post(struct selfvirt_vif *vif, u32 slot, u32 page);
void *selfvirt_rx_pool_buf(struct selfvirt_vif *vif, u32 slot);
int selfvirt_rx_pool_enable(struct selfvirt_vif *vif);
int selfvirt_rx_pool_start(struct selfvirt_vif *vif, u32 rx_entries);

/* netdev.c */
extern const struct net_device_ops selfvirt_netdev_ops;
extern const struct net_device_ops selfvirt_function_netdev_ops;
extern const struct netdev_stat_ops selfvirt_stat_ops;
int selfvirt_set_rx_chain(struct selfvirt_vif *vif, netdev_features_t features);
void selfvirt_rx_mode_work(struct work_struct *work);

/* ethtool.c */
extern const struct ethtool_ops selfvirt_ethtool_ops;
extern const struct ethtool_ops selfvirt_function_ethtool_ops;

/* mdev*.c: VIFs handed to VMs as VFIO mediated devices */
#if IS_ENABLED(CONFIG_VFIO_MDEV)
int selfvirt_mdev_driver_register(void);
void selfvirt_mdev_driver_unregister(void);
int selfvirt_mdev_parent_register(struct selfvirt_board *b);
void selfvirt_mdev_parent_unregister(struct selfvirt_board *b);
void selfvirt_mdev_signal(struct selfvirt_mdev *md);
void selfvirt_mdev_mac(struct selfvirt_mdev *md, u8 *mac);
#else
static inline int selfvirt_mdev_driver_register(void) { return 0; }
static inline void selfvirt_mdev_driver_unregister(void) { }
static inline int selfvirt_mdev_parent_register(struct selfvirt_board *b)
{
	return 0;
}

static inline void selfvirt_mdev_parent_unregister(struct selfvirt_board *b) { }
static inline void selfvirt_mdev_signal(struct selfvirt_mdev *md) { }
static inline void selfvirt_mdev_mac(struct selfvirt_mdev *md, u8 *mac) { }
#endif

#endif /* _SELFVIRT_H_ */

/*
 * selfvirt: signals, through the 16-bit interrupt identifier or MSI-X
 *
 * Each VIF has two signals, transmit-done and packet-received.  In the
 * paper's design each is one bit of the board's 16-bit interrupt
 * identifier (shared by several VIFs beyond 8) and any unmasked set bit
 * asserts the one master interrupt; the host reads the identifier and
 * clears what it handled (write one to clear).  The MSI-X mode is the
 * paper's proposed fix: one vector per VIF signal, no identifier read.
 *
 * Micro-engines run outside the BQL: they set bits atomically and schedule
 * a bottom half that drives the line or sends the MSI-X messages.  A bit
 * set while the host clears others re-runs the bottom half, so no wake-up
 * is lost.
 *
 * Moderation (a VIF's ATTR_SIGNAL_GAP): a signal comes at once after a
 * quiet gap, as a ping wants, and one within the gap of the last of its
 * kind waits for the gap's end, so that a stream gets one per gap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "system/kvm.h"
#include "selfvirt.h"
#include "trace.h"

static uint32_t selfvirt_irq_all(SelfvirtState *s)
{
    return (1u << s->irq.width) - 1;
}

static void selfvirt_irq_update(SelfvirtState *s);

/* VIF @vif's @signal: its MSI-X vector, or its bit of the identifier. */
static unsigned selfvirt_irq_vec(unsigned vif, uint32_t signal)
{
    return signal == SELFVIRT_SIGNAL_TX ? SELFVIRT_MSIX_TX_VEC(vif)
                                        : SELFVIRT_MSIX_RX_VEC(vif);
}

static uint32_t selfvirt_irq_bit(SelfvirtState *s, unsigned vif,
                                 uint32_t signal)
{
    return 1u << (signal == SELFVIRT_SIGNAL_TX
                  ? SELFVIRT_IRQ_TX_BIT(vif, s->irq.width)
                  : SELFVIRT_IRQ_RX_BIT(vif, s->irq.width));
}

/*
 * Any thread, under KVM with the host's MSI(-X) on: the message goes by
 * irqfd.  The identifier's MSI is sent when its first unmasked bit is
 * set; the host's clear that leaves bits pending sends it again
 * (selfvirt_irq_update), so that a bit set during the clear is not lost.
 */
static void selfvirt_irqfd_raise(SelfvirtState *s, unsigned vif,
                                 uint32_t signal)
{
    EventNotifier *n = &s->irq.notifier[0];

    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        n = &s->irq.notifier[selfvirt_irq_vec(vif, signal)];
    } else {
        uint32_t bit = selfvirt_irq_bit(s, vif, signal);
        uint32_t old = qatomic_fetch_or(&s->irq.id, bit);
        uint32_t unmasked = ~qatomic_read(&s->irq.mask);

        if (!(bit & unmasked) || (old & unmasked)) {
            return;         /* masked, or its MSI is on its way */
        }
    }
    event_notifier_set(n);
    selfvirt_stat_inc(s, SELFVIRT_STAT_IRQFDS);
}

/* Called from any thread. */
static void selfvirt_irq_raise(SelfvirtState *s, unsigned vif, uint32_t signal)
{
    qatomic_inc(&s->vif[vif].stats[SELFVIRT_VSTAT_SIGNALS]);
    trace_selfvirt_irq_signal(vif, signal);
    if (qatomic_read(&s->irq.irqfd)) {
        selfvirt_irqfd_raise(s, vif, signal);
        return;
    }
    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        unsigned vec = selfvirt_irq_vec(vif, signal);

        qatomic_or(&s->irq.msix_pending[vec / 64], 1ull << (vec % 64));
    } else {
        qatomic_or(&s->irq.id, selfvirt_irq_bit(s, vif, signal));
    }
    /*
     * At once only inside our own MMIO, where the re-entrancy guard is
     * engaged: a message a guest aimed at our registers is blocked.  From
     * the net layer's receive or a timer, through the guarded BH.
     */
    if (selfvirt_engines_finish_here(s) &&
        s->parent_obj.qdev.mem_reentrancy_guard.engaged_in_io) {
        selfvirt_irq_update(s);
    } else {
        qemu_bh_schedule(s->irq.bh);
    }
}

static unsigned selfvirt_irq_kind(uint32_t signal)
{
    return signal == SELFVIRT_SIGNAL_TX ? 0 : 1;
}

/*
 * Any thread: hold VIF @v's @signal if it comes within the VIF's gap of
 * the last one of its kind.  The release timer's run that comes after the
 * held bit is set raises it: a signal may come late, never be lost.
 */
static bool selfvirt_irq_hold(SelfvirtState *s, unsigned v, uint32_t signal)
{
    uint32_t gap_us = qatomic_read(&s->vif[v].signal_gap_us);
    int64_t *next = &s->irq.next_ns[v][selfvirt_irq_kind(signal)];
    int64_t now, due;

    if (!gap_us) {
        return false;
    }
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    due = qatomic_read(next);
    if (now >= due) {
        qatomic_set(next, now + gap_us * SCALE_US);
        return false;
    }
    qatomic_or(&s->irq.held[selfvirt_irq_kind(signal)], 1ull << v);
    timer_mod_anticipate_ns(s->irq.release, due);
    return true;
}

void selfvirt_irq_signal(SelfvirtState *s, unsigned vif, uint32_t signal)
{
    if (!selfvirt_irq_hold(s, vif, signal)) {
        selfvirt_irq_raise(s, vif, signal);
    }
}

/* The release timer, with the BQL: raise the held signals that are due. */
static void selfvirt_irq_release(void *opaque)
{
    static const uint32_t signal[2] = {
        SELFVIRT_SIGNAL_TX, SELFVIRT_SIGNAL_RX
    };
    SelfvirtState *s = opaque;

    for (unsigned k = 0; k < 2; k++) {
        uint64_t held = qatomic_xchg(&s->irq.held[k], 0);

        while (held) {
            unsigned v = ctz64(held);

            held &= held - 1;
            if (!s->vif[v].active) {
                continue;           /* gone while it waited */
            }
            if (selfvirt_irq_hold(s, v, signal[k])) {
                continue;           /* not due yet: the timer is re-armed */
            }
            selfvirt_irq_raise(s, v, signal[k]);
        }
    }
}

/* VIF @v is gone: its held signals with it (a stream must not carry them) */
void selfvirt_irq_vif_clear(SelfvirtState *s, unsigned v)
{
    for (unsigned k = 0; k < ARRAY_SIZE(s->irq.held); k++) {
        qatomic_and(&s->irq.held[k], ~(1ull << v));
    }
}

/* With the BQL: drive the master interrupt, or send pending MSI-X. */
static void selfvirt_irq_update(SelfvirtState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    assert(bql_locked());
    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        for (unsigned w = 0; w < ARRAY_SIZE(s->irq.msix_pending); w++) {
            uint64_t pend = qatomic_xchg(&s->irq.msix_pending[w], 0);

            while (pend) {
                unsigned vec = w * 64 + ctz64(pend);

                pend &= pend - 1;
                trace_selfvirt_msix_notify(vec, msix_enabled(pdev));
                if (msix_enabled(pdev)) {
                    msix_notify(pdev, vec);
                    selfvirt_stat_inc(s, SELFVIRT_STAT_IRQS);
                }
            }
        }
        return;
    } else {
        bool level = qatomic_read(&s->irq.id) & ~s->irq.mask;

        trace_selfvirt_irq_level(qatomic_read(&s->irq.id), s->irq.mask, level);
        if (msi_enabled(pdev)) {
            /*
             * The master interrupt as a message: one per batch of new
             * bits, and again after a clear that left bits pending.
             */
            if (level) {
                selfvirt_stat_inc(s, SELFVIRT_STAT_IRQS);
                msi_notify(pdev, 0);
            }
            s->irq.level = false;     /* enabling MSI lowered INTx */
            return;
        }
        if (level && !s->irq.level) {
            selfvirt_stat_inc(s, SELFVIRT_STAT_IRQS);   /* rising edges */
        }
        s->irq.level = level;
        pci_set_irq(pdev, level);
    }
}

static void selfvirt_irq_bh(void *opaque)
{
    selfvirt_irq_update(opaque);
}

uint64_t selfvirt_irq_reg_read(SelfvirtState *s, hwaddr addr)
{
    switch (addr) {
    case SELFVIRT_REG_IRQ_INFO:
        return SELFVIRT_IRQ_INFO(s->irq.width, s->irq.mode);
    case SELFVIRT_REG_IRQ_ID:
        return qatomic_read(&s->irq.id);
    case SELFVIRT_REG_IRQ_MASK:
        return s->irq.mask;
    case SELFVIRT_REG_IRQ_PENDING:
        return qatomic_read(&s->irq.id) & ~s->irq.mask;
    }
    g_assert_not_reached();
}

/*
 * The identifier width management chose: 1 up to the board's.  Each VIF's
 * bits depend on it, so it changes only while no VIF exists.
 */
static void selfvirt_irq_set_width(SelfvirtState *s, uint32_t width)
{
    if (width < 1 || width > s->irq.width_max) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: identifier width %u out of "
                      "1..%u, ignored\n", width, s->irq.width_max);
        return;
    }
    if (selfvirt_csr_refused_while_live(s, "identifier width", width)) {
        return;
    }
    s->irq.width = width;
    qatomic_and(&s->irq.id, selfvirt_irq_all(s));
    s->irq.mask = selfvirt_irq_all(s);
    trace_selfvirt_irq_width(width);
}

void selfvirt_irq_reg_write(SelfvirtState *s, hwaddr addr, uint32_t val)
{
    uint32_t all = selfvirt_irq_all(s);

    switch (addr) {
    case SELFVIRT_REG_IRQ_INFO:
        selfvirt_irq_set_width(s, SELFVIRT_IRQ_INFO_WIDTH(val));
        break;
    case SELFVIRT_REG_IRQ_ID:
        qatomic_and(&s->irq.id, ~val);
        break;
    case SELFVIRT_REG_IRQ_MASK:
        qatomic_set(&s->irq.mask, val & all);
        smp_mb();   /* mask, then id: an engine sets id, then reads mask */
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: IRQ_PENDING is read-only\n");
        return;
    }
    if (val & ~all) {
        qemu_log_mask(LOG_GUEST_ERROR, "selfvirt: identifier bits 0x%x are "
                      "beyond its width of %u, ignored\n", val & ~all,
                      s->irq.width);
    }
    selfvirt_irq_update(s);
}

void selfvirt_irq_reset(SelfvirtState *s)
{
    s->irq.width = s->irq.width_max;
    qatomic_set(&s->irq.id, 0);
    s->irq.mask = selfvirt_irq_all(s);
    s->irq.msix_pending[0] = s->irq.msix_pending[1] = 0;
    s->irq.raise_on_run = false;
    timer_del(s->irq.release);
    s->irq.held[0] = s->irq.held[1] = 0;
    memset(s->irq.next_ns, 0, sizeof(s->irq.next_ns));
    /*
     * A board reset (DEV_CTRL or the mailbox) leaves the PCI function's
     * MSI and MSI-X set-up alone: the host still owns it.  The PCI core
     * resets both on a device reset.
     */
    if (s->irq.mode != SELFVIRT_IRQ_MODE_MSIX) {
        pci_set_irq(PCI_DEVICE(s), 0);
        s->irq.level = false;
    }
}

/* ---- KVM's fast path: MSI and MSI-X messages by irqfd ---- */

static unsigned selfvirt_irqfd_count(SelfvirtState *s)
{
    return s->irq.mode == SELFVIRT_IRQ_MODE_MSIX ? SELFVIRT_MSIX_VECTORS(s)
                                                 : 1;
}

/* The host unmasked MSI-X vector @vec: its irqfd goes to KVM. */
static int selfvirt_irqfd_unmask(PCIDevice *pdev, unsigned vec, MSIMessage msg)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);
    int ret;

    ret = kvm_irqchip_update_msi_route(kvm_state, s->irq.virq[vec], msg, pdev);
    if (ret < 0) {
        return ret;
    }
    kvm_irqchip_commit_routes(kvm_state);
    ret = kvm_irqchip_add_irqfd_notifier_gsi(kvm_state, &s->irq.notifier[vec],
                                             NULL, s->irq.virq[vec]);
    s->irq.bound[vec] = ret >= 0;
    return ret;
}

/* Masked: signals wait in the eventfd, sent when it is bound again. */
static void selfvirt_irqfd_mask(PCIDevice *pdev, unsigned vec)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);

    if (s->irq.bound[vec]) {
        kvm_irqchip_remove_irqfd_notifier_gsi(kvm_state, &s->irq.notifier[vec],
                                              s->irq.virq[vec]);
        s->irq.bound[vec] = false;
    }
}

/* The host reads the PBA: a masked vector's waiting signal is pending. */
static void selfvirt_irqfd_poll(PCIDevice *pdev, unsigned first, unsigned end)
{
    SelfvirtState *s = SELFVIRT_NIC(pdev);

    for (unsigned vec = first; vec < MIN(end, selfvirt_irqfd_count(s)); vec++) {
        if (msix_is_masked(pdev, vec) &&
            event_notifier_test_and_clear(&s->irq.notifier[vec])) {
            msix_set_pending(pdev, vec);
        }
    }
}

/* VMState: a masked vector's waiting signal goes in the PBA. */
int selfvirt_irq_pre_save(void *opaque)
{
    SelfvirtState *s = opaque;

    if (s->irq.irqfd && s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        selfvirt_irqfd_poll(PCI_DEVICE(s), 0, selfvirt_irqfd_count(s));
    }
    return 0;
}

static void selfvirt_irqfd_release_routes(SelfvirtState *s)
{
    for (unsigned i = 0; i < selfvirt_irqfd_count(s); i++) {
        selfvirt_irqfd_mask(PCI_DEVICE(s), i);
        if (s->irq.virq[i] >= 0) {
            kvm_irqchip_release_virq(kvm_state, s->irq.virq[i]);
            s->irq.virq[i] = -1;
        }
    }
}

/* A route per vector; the MSI's bound at once, MSI-X's when unmasked. */
static bool selfvirt_irqfd_on(SelfvirtState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    KVMRouteChange c = kvm_irqchip_begin_route_changes(kvm_state);
    bool msix = s->irq.mode == SELFVIRT_IRQ_MODE_MSIX;

    for (unsigned i = 0; i < selfvirt_irqfd_count(s); i++) {
        s->irq.virq[i] = kvm_irqchip_add_msi_route(&c, i, pdev);
        if (s->irq.virq[i] < 0) {
            kvm_irqchip_commit_route_changes(&c);
            selfvirt_irqfd_release_routes(s);
            return false;
        }
    }
    kvm_irqchip_commit_route_changes(&c);
    if (msix ? msix_set_vector_notifiers(pdev, selfvirt_irqfd_unmask,
                                         selfvirt_irqfd_mask,
                                         selfvirt_irqfd_poll) < 0
             : kvm_irqchip_add_irqfd_notifier_gsi(kvm_state,
                                                  &s->irq.notifier[0], NULL,
                                                  s->irq.virq[0]) < 0) {
        selfvirt_irqfd_release_routes(s);
        return false;
    }
    s->irq.bound[0] |= !msix;
    qatomic_set(&s->irq.irqfd, true);
    return true;
}

/* Any time, with the BQL: signals go by the bottom half again. */
void selfvirt_irqfd_off(SelfvirtState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (!s->irq.irqfd) {
        return;
    }
    qatomic_set(&s->irq.irqfd, false);
    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        msix_unset_vector_notifiers(pdev);
    }
    /* with MSI-X disabled first, unset did not mask: release does */
    selfvirt_irqfd_release_routes(s);
    for (unsigned i = 0; i < selfvirt_irqfd_count(s); i++) {
        event_notifier_test_and_clear(&s->irq.notifier[i]);
    }
}

/*
 * With the BQL, after the host wrote PCI config space (or a reset or a
 * migration changed it): irqfds while MSI or MSI-X is on, and the MSI's
 * route follows its message.
 */
static void selfvirt_irqfd_sync(SelfvirtState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool want;

    if (!s->irq.notifier) {
        return;
    }
    want = s->irq.mode == SELFVIRT_IRQ_MODE_MSIX ? msix_enabled(pdev)
                                                 : msi_enabled(pdev);
    if (!want) {
        selfvirt_irqfd_off(s);
    } else if (!s->irq.irqfd) {
        if (!selfvirt_irqfd_on(s)) {
            warn_report_once("selfvirt: no KVM irqfd for its signals: they "
                             "take the BQL");
        }
    } else if (s->irq.mode != SELFVIRT_IRQ_MODE_MSIX) {
        kvm_irqchip_update_msi_route(kvm_state, s->irq.virq[0],
                                     msi_get_message(pdev, 0), pdev);
        kvm_irqchip_commit_routes(kvm_state);
    }
}

/* The host enabled, disabled or moved MSI or MSI-X: KVM's routes follow. */
void selfvirt_irq_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len)
{
    pci_default_write_config(pdev, addr, val, len);
    selfvirt_irqfd_sync(SELFVIRT_NIC(pdev));
}

/* Under KVM with its MSI routes: a notifier per message the board sends. */
static void selfvirt_irqfd_init(SelfvirtState *s)
{
    unsigned n = selfvirt_irqfd_count(s);

    if (!s->irq.irqfd_allowed || !kvm_msi_via_irqfd_enabled()) {
        return;
    }
    s->irq.notifier = g_new0(EventNotifier, n);
    s->irq.virq = g_new(int, n);
    s->irq.bound = g_new0(bool, n);
    for (unsigned i = 0; i < n; i++) {
        s->irq.virq[i] = -1;
        if (event_notifier_init(&s->irq.notifier[i], 0) < 0) {
            warn_report("selfvirt: no eventfd for irqfd: signals take the "
                        "BQL");
            while (i--) {
                event_notifier_cleanup(&s->irq.notifier[i]);
            }
            g_clear_pointer(&s->irq.notifier, g_free);
            return;
        }
    }
}

static void selfvirt_irqfd_fini(SelfvirtState *s)
{
    if (!s->irq.notifier) {
        return;
    }
    selfvirt_irqfd_off(s);
    for (unsigned i = 0; i < selfvirt_irqfd_count(s); i++) {
        event_notifier_cleanup(&s->irq.notifier[i]);
    }
    g_clear_pointer(&s->irq.notifier, g_free);
    g_clear_pointer(&s->irq.virq, g_free);
    g_clear_pointer(&s->irq.bound, g_free);
}

bool selfvirt_irq_init(SelfvirtState *s, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    s->irq.bh = qemu_bh_new_guarded(selfvirt_irq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
    s->irq.release = timer_new_ns(QEMU_CLOCK_VIRTUAL, selfvirt_irq_release, s);
    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        unsigned n = SELFVIRT_MSIX_VECTORS(s);

        memory_region_init(&s->irq.msix, OBJECT(s), "selfvirt-msix", 16 * KiB);
        if (msix_init(pdev, n, &s->irq.msix, SELFVIRT_BAR_MSIX, 0,
                      &s->irq.msix, SELFVIRT_BAR_MSIX, 8 * KiB, 0, errp)) {
            return false;
        }
        pci_register_bar(pdev, SELFVIRT_BAR_MSIX,
                         PCI_BASE_ADDRESS_SPACE_MEMORY, &s->irq.msix);
        for (unsigned i = 0; i < n; i++) {
            msix_vector_use(pdev, i);
        }
    } else {
        /* the one master interrupt: INTA, or MSI when the host enables it */
        pci_config_set_interrupt_pin(pdev->config, 1);
        if (msi_init(pdev, 0, 1, true, false, errp) < 0) {
            return false;
        }
    }
    s->irq.width = s->irq.width_max;
    s->irq.mask = selfvirt_irq_all(s);
    selfvirt_irqfd_init(s);
    return true;
}

/* A migration stream's identifier and pending vectors: only what exists. */
bool selfvirt_irq_state_ok(SelfvirtState *s, Error **errp)
{
    unsigned vectors = s->irq.mode == SELFVIRT_IRQ_MODE_MSIX
                       ? SELFVIRT_MSIX_VECTORS(s) : 0;
    uint32_t all;

    if (s->irq.width < 1 || s->irq.width > s->irq.width_max) {
        error_setg(errp, "identifier width %u out of 1..%u", s->irq.width,
                   s->irq.width_max);
        return false;
    }
    all = selfvirt_irq_all(s);     /* a shift by a width now known to fit */
    if ((s->irq.id & ~all) || (s->irq.mask & ~all)) {
        error_setg(errp, "interrupt identifier bits beyond its width");
        return false;
    }
    for (unsigned w = 0; w < ARRAY_SIZE(s->irq.msix_pending); w++) {
        unsigned first = w * 64;
        uint64_t valid = vectors <= first ? 0
                         : vectors - first >= 64 ? UINT64_MAX
                         : (1ull << (vectors - first)) - 1;

        if (s->irq.msix_pending[w] & ~valid) {
            error_setg(errp, "MSI-X vectors pending that the board lacks");
            return false;
        }
    }
    for (unsigned k = 0; k < ARRAY_SIZE(s->irq.held); k++) {
        for (uint64_t h = s->irq.held[k]; h; h &= h - 1) {
            if (!s->vif[ctz64(h)].active) {
                error_setg(errp, "a signal held for VIF %u, which does not "
                           "exist", ctz64(h));
                return false;
            }
        }
    }
    return true;
}

/* Held signals came with the stream: raise them now; gaps start afresh. */
void selfvirt_irq_post_load(SelfvirtState *s)
{
    memset(s->irq.next_ns, 0, sizeof(s->irq.next_ns));
    if (s->irq.held[0] || s->irq.held[1]) {
        timer_mod_ns(s->irq.release, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
    /* the source had not sent them yet: the destination does, once it runs */
    s->irq.raise_on_run = s->irq.msix_pending[0] || s->irq.msix_pending[1] ||
                          (s->irq.id & ~s->irq.mask);
    selfvirt_irqfd_sync(s);
}

/* With the BQL: the VM runs (again); raise what a loaded stream held. */
void selfvirt_irq_vm_running(SelfvirtState *s)
{
    if (s->irq.raise_on_run) {
        s->irq.raise_on_run = false;
        qemu_bh_schedule(s->irq.bh);
    }
}

void selfvirt_irq_fini(SelfvirtState *s)
{
    selfvirt_irqfd_fini(s);
    if (s->irq.mode == SELFVIRT_IRQ_MODE_MSIX) {
        msix_uninit(PCI_DEVICE(s), &s->irq.msix, &s->irq.msix);
    } else {
        msi_uninit(PCI_DEVICE(s));
    }
    qemu_bh_delete(s->irq.bh);
    timer_free(s->irq.release);
}

"""Boot test guests and run commands in them.

The guests are Debian's 6.12 kernel with the project's initramfs (built by
``make guest``).  Each guest is a :class:`qemu.machine.QEMUMachine` from the
QEMU source tree; commands run through QEMU's guest agent (``guest-exec``)
on a virtio-serial port.  Two guests are wired back to back with a stream
netdev over a unix socket, which needs no root and no host network, or
(``wire('tap')``) by tap devices in a Linux bridge inside a network
namespace of the harness's own.

Failures leave the guests' consoles in the test's output folder.
"""

import base64
import contextlib
import importlib.util
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, 'build')

_spec = importlib.util.spec_from_file_location(
    'kernel_reports', os.path.join(TOP, 'scripts', 'kernel-reports.py'))
kernel_reports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kernel_reports)


def abi_define(name):
    """A number #defined in the ABI header, the one truth for device,
    driver and tests."""
    path = os.path.join(TOP, 'hw', 'net', 'selfvirt', 'selfvirt_abi.h')
    with open(path, encoding='utf-8') as f:
        m = re.search(rf'^#define\s+{name}\s+(?:(0x[0-9a-fA-F]+|\d+)u?\b|'
                      r'\(1u << (\d+)\))', f.read(), re.M)
    if not m:
        raise KeyError(f'{name} is not a number in {path}')
    return int(m[1], 0) if m[1] else 1 << int(m[2])


def _config():
    conf = {}
    path = os.path.join(BUILD, 'config.mk')
    if not os.path.exists(path):
        raise RuntimeError(f'{path} is missing: run ./configure first')
    with open(path, encoding='utf-8') as f:
        for line in f:
            key, _, val = line.partition(':=')
            conf[key.strip()] = val.strip()
    return conf


CONFIG = _config()
sys.path.insert(0, os.path.join(CONFIG['QEMU_SRC'], 'python'))

# pylint: disable=wrong-import-position
from qemu.machine import QEMUMachine  # noqa: E402
from qemu.utils.qemu_ga_client import QemuGuestAgent  # noqa: E402

# SELFVIRT_QEMU: another QEMU binary (to compare two builds of the device)
QEMU = os.environ.get('SELFVIRT_QEMU', os.path.join(CONFIG['QEMU_BUILD'],
                                                   'qemu-system-x86_64'))
# SELFVIRT_GUEST_DIR: another guest image (make check-guest-6.1)
GUEST_DIR = os.environ.get('SELFVIRT_GUEST_DIR', os.path.join(BUILD, 'guest'))
# Debian's own kernel, whatever SELFVIRT_GUEST_DIR says: for a guest that
# only stands in for another NIC (virtio-net), not the driver under test
STOCK_GUEST_DIR = os.path.join(BUILD, 'guest')
# the L1 image of the nested tests (make nested)
NESTED_DIR = os.environ.get('SELFVIRT_NESTED_DIR',
                            os.path.join(BUILD, 'nested'))
# the guest image with the kernel's driver selftests (make kselftest-image)
KSELFTEST_DIR = os.environ.get('SELFVIRT_KSELFTEST_DIR',
                               os.path.join(BUILD, 'kselftest'))
# SELFVIRT_GUEST_SMP: the fewest vCPUs of a test guest (a debug kernel's
# races want 2)
GUEST_SMP = int(os.environ.get('SELFVIRT_GUEST_SMP', '1'))
OUT_DIR = os.path.join(BUILD, 'test-output')


def kvm_works():
    """True when /dev/kvm is a real KVM.

    The PVM flavour found on some cloud hosts (kvm_pvm) cannot run a stock
    guest kernel: treat it as absent.
    """
    if os.path.exists('/sys/module/kvm_pvm'):
        return False
    return os.access('/dev/kvm', os.R_OK | os.W_OK)


def accel_args():
    accel = os.environ.get('SELFVIRT_ACCEL') or ('kvm' if kvm_works() else 'tcg')
    if accel == 'kvm':
        return ['-accel', 'kvm', '-cpu', 'host']
    return ['-accel', 'tcg', '-cpu', 'max']


class GuestError(Exception):
    pass


class CommandFailed(GuestError):
    def __init__(self, guest, cmd, rc, out, err):
        super().__init__(f'{guest}: `{cmd}` exited {rc}\n'
                         f'--- stdout\n{out}--- stderr\n{err}')
        self.rc, self.out, self.err = rc, out, err


class Guest:
    """One test guest: a QEMU process, its console log and its agent."""

    def __init__(self, name, workdir, devices=(), mem='512M', smp=1,
                 append='', image=GUEST_DIR, l2_agents=0, wrapper=()):
        self.name = name
        self.workdir = workdir
        self.image = image
        self.wrapper = wrapper      # what QEMU runs under (Wire.wrapper)
        self.config = (devices, mem, smp, append)
        # more ports, which L2 VMs' agents reach through (Nested)
        self.l2_agent_paths = [os.path.join(workdir, f'{name}.l2qga{i}')
                               for i in range(l2_agents)]
        self.generation = 0         # QEMU processes it migrated through
        self.vm = self._machine()
        self.qga = None

    def _machine(self, extra=()):
        """The QEMU process of this guest's current generation."""
        devices, mem, smp, append = self.config
        tag = self.name if not self.generation else \
            f'{self.name}.{self.generation}'
        self.console_path = os.path.join(self.workdir, f'{tag}.console')
        self.qga_path = os.path.join(self.workdir, f'{tag}.qga')
        # thread names (debug-threads): the board's engines are svme*
        args = ['-name', f'{tag},debug-threads=on',
                '-nodefaults', '-M', 'pc', *accel_args(),
                '-m', mem, '-smp', str(smp),
                '-kernel', os.path.join(self.image, 'vmlinuz'),
                '-initrd', os.path.join(self.image, 'initramfs.cpio.gz'),
                '-append', f'console=ttyS0 panic=-1 loglevel=6 '
                           f'svguest.name={self.name} {append}',
                '-serial', f'file:{self.console_path}',
                '-no-reboot',
                '-chardev', f'socket,id=qga0,path={self.qga_path},'
                            'server=on,wait=off',
                '-device', 'virtio-serial-pci',
                '-device', 'virtserialport,chardev=qga0,'
                           'name=org.qemu.guest_agent.0', *extra]
        for i, path in enumerate(self.l2_agent_paths):
            bus = f'l2ser{i // L2_PORTS_PER_SERIAL}'
            if i % L2_PORTS_PER_SERIAL == 0:
                args += ['-device', f'virtio-serial-pci,id={bus}']
            args += ['-chardev', f'socket,id=l2qga{i},path={path},'
                                 'server=on,wait=off',
                     '-device', f'virtserialport,bus={bus}.0,'
                                f'chardev=l2qga{i},name={l2_agent_port(i)}']
        for dev in devices:
            args += dev
        return QEMUMachine(QEMU, args=args, name=tag, wrapper=self.wrapper,
                           base_temp_dir=self.workdir, log_dir=self.workdir)

    def __str__(self):
        return self.name

    def cpu_seconds(self):
        """CPU time (user + system) the guest's QEMU process has used."""
        with open(f'/proc/{self.vm.get_pid()}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def thread_cpu_ns(self, prefix, field=0):
        """CPU time (ns, schedstat) of the QEMU threads named @prefix*:
        'svme' the board's engines, 'CPU ' the vCPUs, '' all.  @field 1:
        the time they were runnable but waited for a core instead."""
        task = f'/proc/{self.vm.get_pid()}/task'
        total = 0
        for tid in os.listdir(task):
            try:
                with open(f'{task}/{tid}/comm') as f:
                    if not f.read().startswith(prefix):
                        continue
                with open(f'{task}/{tid}/schedstat') as f:
                    total += int(f.read().split()[field])
            except FileNotFoundError:
                pass                # the thread ended in between
        return total

    def console(self):
        try:
            with open(self.console_path, encoding='utf-8',
                      errors='replace') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def launch(self):
        self.vm.launch()

    def wait_ready(self, timeout=180):
        """Wait for /init to report the agent port, then sync with it."""
        deadline = time.monotonic() + timeout
        while 'selfvirt-guest: ready' not in self.console():
            if not self.vm.is_running():
                raise GuestError(f'{self}: QEMU exited '
                                 f'({self.vm.exitcode()}) during boot')
            if 'Kernel panic' in self.console():
                raise GuestError(f'{self}: kernel panic during boot')
            if time.monotonic() > deadline:
                raise GuestError(f'{self}: not ready after {timeout} s')
            time.sleep(0.2)
        self._connect_agent(max(5.0, deadline - time.monotonic()))

    def _connect_agent(self, timeout):
        if self.qga is None:
            self.qga = QemuGuestAgent(self.qga_path)
            self.qga.connect(negotiate=False)
        self.qga.settimeout(timeout)
        uid = random.randint(1, (1 << 31) - 1)
        if self.qga.cmd('guest-sync', id=uid) != uid:
            raise GuestError(f'{self}: guest agent did not sync')
        self.qga.settimeout(30)

    # TCG keeps no nested state for a vCPU: one stopped while it runs its
    # L2 guest cannot be loaded (QEMU's target/i386/machine.c refuses it)
    NESTED_STATE_REFUSED = 'inconsistent with migrated kernel nested state'

    def migrate(self, timeout=120, attempts=3):
        """Live-migrate to a new QEMU on this host; return the seconds it took.

        The guest goes on in the new process, with a new console file; the
        old process is shut down once the migration has completed.  A
        migration the destination refused only because the vCPU stopped in
        its L2 guest (TCG, above) is tried again: the source runs on.
        """
        old_vm, old_qga = self.vm, self.qga
        start = time.monotonic()
        for attempt in range(1, attempts + 1):
            self.generation += 1
            uri = 'unix:' + os.path.join(self.workdir,
                                         f'{self.name}.{self.generation}.mig')
            self.vm = self._machine(['-incoming', uri])
            self.vm.launch()
            # the source completes only once the destination has loaded
            old_vm.qmp('migrate-set-capabilities', capabilities=[
                {'capability': 'return-path', 'state': True}])
            old_vm.qmp('migrate', uri=uri)
            st = self._migration_end(old_vm, start, timeout)
            if st == 'completed':
                break
            with contextlib.suppress(Exception):
                self.vm.shutdown(hard=True, timeout=10)
            if self.NESTED_STATE_REFUSED not in self._log() \
                    or attempt == attempts:
                raise GuestError(f'{self}: migration {st} after '
                                 f'{time.monotonic() - start:.0f} s')
            print(f'{self}: migration attempt {attempt} met TCG\'s nested '
                  'state limit; again')
            while old_vm.qmp('query-status')['return']['status'] != 'running':
                time.sleep(0.1)
        took = time.monotonic() - start
        with contextlib.suppress(Exception):
            old_qga.close()
        self.qga = None
        old_vm.shutdown(hard=True, timeout=10)
        self._connect_agent(30)
        return took

    def _log(self):
        """What this generation's QEMU printed (QEMUMachine's log file)."""
        path = os.path.join(self.workdir, f'{self.name}.{self.generation}.log')
        with contextlib.suppress(OSError), open(path, errors='replace') as f:
            return f.read()
        return ''

    @staticmethod
    def _migration_end(vm, start, timeout):
        while True:
            st = vm.qmp('query-migrate')['return'].get('status')
            if st in ('completed', 'failed') or \
                    time.monotonic() - start > timeout:
                return st
            time.sleep(0.1)

    def kill_and_restart(self, timeout=180):
        """Kill this guest's QEMU (SIGKILL: nothing is shut down), then boot
        the guest again in a new QEMU with the same devices."""
        with contextlib.suppress(Exception):
            self.qga.close()
        self.qga = None
        self.vm.shutdown(hard=True, timeout=10)
        self.generation += 1
        self.vm = self._machine()
        self.vm.launch()
        self.wait_ready(timeout)

    def run(self, cmd, timeout=60, check=True):
        """Run a shell command in the guest; return (rc, stdout, stderr)."""
        pid = self.qga.cmd('guest-exec', path='/bin/sh',
                           arg=['-c', f'timeout {int(timeout)} sh -c '
                                      f'{quote(PRELUDE + cmd)}'],
                           **{'capture-output': True})['pid']
        deadline = time.monotonic() + timeout + 10
        delay = 0.02
        while True:
            try:
                st = self.qga.cmd('guest-exec-status', pid=pid)
            except TimeoutError:
                # a guest too busy to answer in 30 s (an L1 growing 32 L2
                # VMs): ask again; a late answer is dropped by its id
                st = {'exited': False}
            if st['exited']:
                break
            if time.monotonic() > deadline:
                raise GuestError(f'{self}: `{cmd}` did not finish in {timeout} s')
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        out = base64.b64decode(st.get('out-data', '')).decode(errors='replace')
        err = base64.b64decode(st.get('err-data', '')).decode(errors='replace')
        rc = st.get('exitcode', -st.get('signal', 1))
        if check and rc != 0:
            raise CommandFailed(self, cmd, rc, out, err)
        return rc, out, err

    def out(self, cmd, timeout=60):
        return self.run(cmd, timeout=timeout)[1]

    def hmp(self, command):
        """A human monitor command of this guest's QEMU; its output."""
        return self.vm.qmp('human-monitor-command',
                           **{'command-line': command})['return']

    def shutdown(self):
        if self.qga is not None:
            with contextlib.suppress(Exception):
                self.qga.close()
            self.qga = None
        with contextlib.suppress(Exception):
            self._stop()

    def _stop(self):
        self.vm.shutdown(hard=True, timeout=10)


L2_AGENT_PORT = 'org.selfvirt.l2agent'
# L2 VMs an L1 can run at once with an agent each: one virtio-serial port
# apiece in L1, a unix socket each on this host
L2_AGENTS = 4               # the default
L2_AGENTS_MAX = 64
# A controller announces all its ports at once on a control queue of 32
# entries (QEMU's virtio-serial-bus.c); a 33rd message is dropped and its
# port never appears in the guest.  So L1's L2 agent ports go 16 to a
# controller, with room for the guest's replies.
L2_PORTS_PER_SERIAL = 16


def l2_agent_port(slot):
    """The name of L1's virtio-serial port for the agent of L2 VM @slot."""
    return L2_AGENT_PORT + (f'.{slot}' if slot else '')


class Nested(Guest):
    """An L2 VM, started by the QEMU inside an L1 guest (image NESTED_DIR).

    L1's QEMU connects L2's agent port to L1's second virtio-serial port,
    whose other end is a socket here: run() and out() work as on L1.
    """

    def __init__(self, name, l1, devices=(), mem='256M', append='',
                 accel=None, slot=0):
        # pylint: disable=super-init-not-called
        self.name = name
        self.l1 = l1
        self.qga = None
        self.console_path = f'/tmp/{name}.console'
        # the L1 port of this L2's agent: one L2 VM per slot at a time
        self.qga_path = l1.l2_agent_paths[slot] \
            if slot < len(l1.l2_agent_paths) else None
        self.port = l2_agent_port(slot)
        append = f'console=ttyS0 panic=-1 loglevel=6 svguest.name={name} {append}'
        # SELFVIRT_L2_ACCEL=tcg: L2 under TCG in L1, for an L1 without KVM
        # (very slow: TCG inside TCG)
        accel = accel or os.environ.get('SELFVIRT_L2_ACCEL', 'kvm')
        cpu = 'host' if accel == 'kvm' else 'max'
        # no HPET: with one, an idle L2 VM's QEMU woke about 235 times a
        # second to drive its interrupt line, 11% of L1's vCPU each
        # against 1% without (32 of them saturate L1)
        self.argv = ['qemu-system-x86_64', '-L', '/usr/share/qemu', '-nodefaults',
                     '-M', 'pc,hpet=off', '-accel', accel, '-cpu', cpu,
                     '-m', mem,
                     '-kernel', '/l2/vmlinuz', '-initrd', '/l2/initramfs.cpio.gz',
                     '-append', append, '-serial', f'file:{self.console_path}',
                     '-display', 'none', '-no-reboot',
                     '-device', 'virtio-serial-pci',
                     '-chardev', 'serial,id=qga0,path=$port',
                     '-device', 'virtserialport,chardev=qga0,'
                                'name=org.qemu.guest_agent.0']
        for dev in devices:
            self.argv += dev

    def console(self):
        return self.l1.run(f'cat {self.console_path}', check=False)[1]

    def launch(self):
        if not self.qga_path:
            raise GuestError(f'{self.l1} has no port for an L2 agent')
        cmd = ' '.join(quote(a) if '$' not in a else f'"{a}"' for a in self.argv)
        # connected before L1's QEMU opens its end: a port with nobody on
        # the host side reads as end of file, and QEMU would let it go
        self.qga = QemuGuestAgent(self.qga_path)
        self.qga.connect(negotiate=False)
        self.l1.run(f'port=/dev/$(grep -lx {self.port} '
                    '/sys/class/virtio-ports/*/name | cut -d/ -f5); '
                    f'setsid {cmd} < /dev/null > /tmp/{self.name}.qemu.log '
                    f'2>&1 & echo $! > /tmp/{self.name}.pid')

    def wait_ready(self, timeout=300):
        deadline = time.monotonic() + timeout
        while 'selfvirt-guest: ready' not in self.console():
            if self.l1.run(f'kill -0 $(cat /tmp/{self.name}.pid)', check=False)[0]:
                raise GuestError(f'{self}: QEMU in {self.l1} exited: ' +
                                 self.l1.out(f'cat /tmp/{self.name}.qemu.log'))
            if time.monotonic() > deadline:
                raise GuestError(f'{self}: not ready after {timeout} s')
            time.sleep(2)
        self._connect_agent(max(10.0, deadline - time.monotonic()))

    def _stop(self):
        self.l1.run(f'kill $(cat /tmp/{self.name}.pid)', check=False)

    def shutdown_and_wait(self, timeout=60):
        """shutdown(), then wait until its QEMU in L1 has gone (its agent
        port and name are free for the next L2 VM)."""
        self.shutdown()
        self.l1.run(f'while kill -0 $(cat /tmp/{self.name}.pid) 2>/dev/null; '
                    'do sleep 0.2; done', timeout=timeout)


# L2 VMs on TCG's emulated SVM sometimes do not come up (docs/testing.md)
L2_BOOT_ATTEMPTS = 2


def boot_l2(make, attempts=L2_BOOT_ATTEMPTS):
    """A Nested from make() launched and ready.  One that does not come up
    (its QEMU exits, its agent does not answer) is shut down and a new one
    from make() (with an agent port of its own) booted, up to @attempts in
    all; the output says so."""
    for attempt in range(1, attempts + 1):
        vm = make()
        vm.launch()
        try:
            vm.wait_ready()
            return vm
        except (GuestError, TimeoutError) as err:
            vm.shutdown_and_wait()
            if attempt == attempts:
                raise
            print(f'{vm.name}: did not come up ({err}); booting it again',
                  flush=True)
    raise AssertionError('not reached')


# busybox's shell runs its own applets before $PATH: reach iproute2's ip
PRELUDE = 'ip() { /usr/bin/ip "$@"; }; '


def quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


@contextlib.contextmanager
def guests(test_name, specs, nested=(), append='', image=GUEST_DIR, smp=1,
           nested_mem='1536M', l2_agents=L2_AGENTS, nested_smp=1,
           wrapper=(), images=None):
    """Boot guests; yield them in order; always tear them down.

    ``specs`` is a list of (name, [device arg lists]).  Guests are launched
    in order (a stream server before its client) and waited for together.
    Those named in ``nested`` boot the L1 image that runs L2 VMs (Nested)
    with ``nested_mem`` of memory, ``nested_smp`` vCPUs and a port for the
    agents of ``l2_agents`` L2 VMs.
    ``append`` is added to the kernel command lines of the others, which
    boot ``image`` (default: the guest image; ``images`` maps a guest's
    name to another) with ``smp`` vCPUs.  Every
    QEMU runs under ``wrapper`` (the wire's: Wire.wrapper).
    On failure the consoles are copied to build/test-output/TEST/.  A
    report of the guest kernel's (a WARN, a BUG, KASAN, lockdep: see
    scripts/kernel-reports.py) in any console fails the test.
    """
    workdir = tempfile.mkdtemp(prefix='selfvirt-')
    started = []
    ok = False
    complaints = []
    try:
        for name, devices in specs:
            if name in nested:
                g = Guest(name, workdir, devices, mem=nested_mem,
                          smp=max(nested_smp, GUEST_SMP), image=NESTED_DIR,
                          l2_agents=l2_agents, wrapper=wrapper)
            else:
                g = Guest(name, workdir, devices, append=append,
                          image=(images or {}).get(name, image),
                          smp=max(smp, GUEST_SMP), wrapper=wrapper)
            started.append(g)
            g.launch()
        for g in started:
            g.wait_ready()
        yield started
        ok = True
    finally:
        if ok:
            for g in started:
                complaints += _guest_kernel_reports(g)
        for g in started:
            g.shutdown()
        if ok:
            complaints += _kernel_reports(workdir)
            ok = not complaints
        if not ok:
            dest = os.path.join(OUT_DIR, test_name)
            os.makedirs(dest, exist_ok=True)
            for f in os.listdir(workdir):
                if f.endswith('.console') or f.endswith('.log'):
                    shutil.copy(os.path.join(workdir, f), dest)
            for g in started:
                tail = '\n'.join(g.console().splitlines()[-30:])
                print(f'--- console of {g} (last 30 lines; all in {dest}):\n'
                      f'{tail}', file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    if complaints:
        raise GuestError('the guest kernel reported:\n' +
                         '\n'.join(complaints))


def _guest_kernel_reports(g):
    """What guest @g's kernel holds back from its console: kmemleak's
    leaks (a debug kernel), and the reports on its L2 VMs' consoles."""
    found = []
    try:
        if g.qga is None or g.vm.qmp('query-status')['return']['status'] \
                != 'running':
            return found
        _, leaks, _ = g.run('k=/sys/kernel/debug/kmemleak; test -e $k || '
                            'exit 0; echo scan > $k; sleep 6; echo scan > $k; '
                            'cat $k', timeout=120, check=False)
        _, l2, _ = g.run('for f in /tmp/*.console; do test -e "$f" && '
                         'echo "== $f" && cat "$f"; done; true',
                         timeout=30, check=False)
    except Exception:           # pylint: disable=broad-except
        return found            # a guest the test stopped: its console says
    found += [f'{g} kmemleak: {line}' for line in kernel_reports.reports(leaks)]
    for part in l2.split('== ')[1:]:
        path, _, text = part.partition('\n')
        found += [f'{g}:{path}: {line}'
                  for line in kernel_reports.reports(text)]
    return found


def _kernel_reports(workdir):
    """Every kernel report in the consoles of @workdir, as 'file: line'."""
    found = []
    for f in sorted(os.listdir(workdir)):
        if f.endswith('.console'):
            with open(os.path.join(workdir, f), encoding='utf-8',
                      errors='replace') as con:
                found += [f'{f}: {line}'
                          for line in kernel_reports.reports(con.read())]
    return found


# the board at 00:05.0: its devlink handle, and its sysfs files (the
# board's counters, and the compatibility wrappers over devlink)
DEVLINK_DEV = 'pci/0000:00:05.0'
BOARD_SYSFS = '/sys/bus/pci/devices/0000:00:05.0/selfvirt'


def vif_ports(g):
    """The board's VIFs with an interface: {index: ifname}, from devlink."""
    ports = json.loads(g.out('devlink -j port show'))['port']
    return {name.rsplit('/', 1)[1]: p['netdev'] for name, p in ports.items()
            if name.startswith(DEVLINK_DEV + '/') and 'netdev' in p}


def _to_netns(g, names, host):
    """Each VIF {index: ifname} into its namespace vN, 10.9.N.host."""
    for idx, ifname in names.items():
        ns = f'v{idx}'
        g.run(f'ip netns add {ns}; ip link set {ifname} netns {ns}; '
              f'ip -n {ns} link set {ifname} name vif up; '
              f'ip -n {ns} addr add 10.9.{idx}.{host}/16 dev vif')


def vif_netns(g, vifs, host, params=''):
    """Load the driver with @vifs VIFs, one per namespace vN, 10.9.N.host."""
    g.run(f'modprobe selfvirt vifs={vifs} {params}')
    names = vif_ports(g)
    assert len(names) == vifs, names
    _to_netns(g, names, host)
    return names


def grow_vif_netns(g, vifs, host):
    """More VIFs (devlink port add), up to @vifs in all, each in its
    namespace as vif_netns() makes them."""
    ports = json.loads(g.out('devlink -j port show'))['port']
    have = sum(name.startswith(DEVLINK_DEV + '/') for name in ports)
    g.run('; '.join(f'devlink port add {DEVLINK_DEV} flavour pcisf pfnum 0 '
                    f'sfnum {i}' for i in range(have, vifs)) or 'true')
    # devlink names a port's netdev only in its own namespace: the new ones
    names = vif_ports(g)
    assert len(names) == vifs - have, names
    _to_netns(g, names, host)


def vif_window(g, index, pci='0000:00:05.0'):
    """The bus address of the window-table entry where VIF @index's receive
    queue starts (its first window, as the driver logged it)."""
    first = int(re.search(rf'VIF {index}: .* in windows (\d+)\+',
                          g.out('dmesg'))[1])
    bar0 = int(g.out(f'cat /sys/bus/pci/devices/{pci}/resource').split()[0], 16)
    return bar0 + abi_define('SELFVIRT_REG_WIN_BASE') + 8 * first


def board_stat(g, name):
    """One of the board's counters (sysfs board_stats) in guest @g."""
    stats = g.out(f'cat {BOARD_SYSFS}/board_stats')
    return int(re.search(rf'^{name} (\d+)$', stats, re.M)[1])


def vif_stat(g, netns, name):
    """Counter @name of the VIF in namespace @netns of guest @g, as
    "ethtool -S" has it."""
    out = g.out(f'ip netns exec {netns} ethtool -S vif')
    return int(re.search(rf'^\s*{name}: (\d+)$', out, re.M)[1])


def vif_board_stat(g, netns, name):
    """The board's counter @name of the VIF in namespace @netns of guest @g
    (ethtool -S board_@name: VIF_STATS, as the board counts it)."""
    return vif_stat(g, netns, f'board_{name}')


def vif_counters(g, netns):
    """A VIF's frames, both ways ([tx, rx]), as its driver counts them and
    as its board does.  The driver counts a sent frame when it reaps the
    board's completion, which waits for its next poll: the completions
    published but not reaped yet count as sent."""
    sysfs = '/sys/class/net/vif/statistics'
    drv = [int(g.out(f'ip netns exec {netns} cat {sysfs}/{d}_packets'))
           for d in ('tx', 'rx')]
    drv[0] += vif_stat(g, netns, 'tx_unreaped')
    board = [vif_board_stat(g, netns, f'{d}_frames') for d in ('tx', 'rx')]
    return drv, board


# What the host's cores do for two guests, by QEMU thread (named with
# debug-threads): the sender's and the receiver's vCPU, the boards'
# engines, and the rest of both processes (main loops, the netdev, RCU,
# timers); and how long their threads were runnable but had no core
THREAD_ROLES = ('tx vCPU', 'rx vCPU', 'engines', 'rest', 'waiting')


def qemu_thread_cpu(a, b):
    """CPU seconds so far of sender @a's and receiver @b's QEMUs, by role
    (THREAD_ROLES, and 'all')."""
    t = {'all': a.cpu_seconds() + b.cpu_seconds(),
         'tx vCPU': a.thread_cpu_ns('CPU ') / 1e9,
         'rx vCPU': b.thread_cpu_ns('CPU ') / 1e9,
         'engines': (a.thread_cpu_ns('svme') + b.thread_cpu_ns('svme')) / 1e9}
    t['rest'] = t['all'] - t['tx vCPU'] - t['rx vCPU'] - t['engines']
    t['waiting'] = (a.thread_cpu_ns('', 1) + b.thread_cpu_ns('', 1)) / 1e9
    return t


def cores_between(before, after, seconds):
    """Cores each role of qemu_thread_cpu() used from @before to @after."""
    return {k: (after[k] - before[k]) / seconds for k in before}


def run_started():
    """When a benchmark starts and what it measures: (date, the tree's
    commit, -dirty if edited).  Edits made while it runs are not measured."""
    return (time.strftime('%Y-%m-%d %H:%M'),
            subprocess.run(['git', '-C', TOP, 'describe', '--always',
                            '--dirty'], capture_output=True,
                           text=True).stdout.strip())


def command_line():
    """This program's command line from the top of the tree, as a shell
    would take it again."""
    return shlex.join([os.path.relpath(os.path.abspath(sys.argv[0]), TOP),
                       *sys.argv[1:]])


def save_results(path, started, steal, **figures):
    """A run's @figures as JSON in @path for scripts/bench-table.py, with
    the command, @started (run_started()), the end and the host's @steal
    percent (None: not measured)."""
    doc = {'command': command_line(), 'started': started[0],
           'ended': time.strftime('%Y-%m-%d %H:%M'), 'commit': started[1]}
    if steal is not None:
        doc['steal_percent'] = round(steal, 1)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({**doc, **figures}, f, indent=1)
        f.write('\n')
    print(f'{os.path.basename(sys.argv[0])}: results in {path}')


def host_cpu_times():
    """The host's /proc/stat CPU line: total and steal jiffies."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[7]


def steal_percent(before, after):
    """Steal time between two host_cpu_times() readings, in percent."""
    total = after[0] - before[0]
    return 100.0 * (after[1] - before[1]) / total if total else 0.0


def iperf3_mbps(out):
    """The receiver's rate in iperf3 client output @out, in Mbit/s."""
    m = re.search(r'([\d.]+) ([KMG])bits/sec.*receiver', out)
    assert m, f'no receiver rate in iperf3 output:\n{out}'
    return float(m[1]) * {'K': 0.001, 'M': 1, 'G': 1000}[m[2]]


def ping_rtts(out):
    """The round-trip times in ms of each answered echo in ping output."""
    return [float(x) for x in re.findall(r'time=([\d.]+) ms', out)]


def ping_ok(g, src, dst, count=2):
    """@count pings from namespace @src to @dst all answered."""
    out = g.out(f'ip netns exec {src} ping -c {count} -W 3 {dst}', timeout=30)
    return f'{count} packets received' in out


def nc_listen(g, netns, port=5001, dst='/tmp/dst', done='/tmp/nc.done'):
    """Receive one TCP connection on @port into @dst (busybox nc) in the
    background; @done appears when it has ended."""
    # the listener's stdin must stay open, or nc ends at its EOF: a fifo
    # that the shell holds open for writing too
    g.run(f'rm -f {dst} {done} {dst}.hold; mkfifo {dst}.hold; '
          f'setsid {netns} sh -c "exec 3<>{dst}.hold; '
          f'nc -l -p {port} <&3 > {dst}; touch {done}" '
          '< /dev/null > /dev/null 2>&1 &')


def nc_send(g, netns, dst, path='/tmp/src', port=5001, rc='/tmp/nc.rc'):
    """Send @path to @dst @port in the background; its exit status lands
    in @rc."""
    g.run(f'rm -f {rc}; '
          f'setsid sh -c "{netns} nc {dst} {port} < {path}; '
          f'echo \\$? > {rc}" < /dev/null > /dev/null 2>&1 &')


def wait_listening(g, netns, port=5001, timeout=10):
    """Wait until a TCP socket listens on @port in namespace @netns (a
    command prefix, as for nc_listen)."""
    g.run(f'for i in $(seq {timeout * 5}); do {netns} cat /proc/net/tcp '
          f'/proc/net/tcp6 | grep -qE ":{port:04X} [0:]+ 0A" && exit 0; '
          'sleep 0.2; done; exit 1', timeout=timeout + 10)


def wait_for_file(g, path, timeout=90):
    deadline = time.monotonic() + timeout
    while g.run(f'test -e {path}', check=False)[0] != 0:
        assert time.monotonic() < deadline, f'{g}: no {path} after {timeout} s'
        time.sleep(0.5)


def sha256(g, path):
    return g.out(f'sha256sum {path}').split()[0]


def start_transfer(sender, receiver, netns, dst, rate_mbps=30):
    """Send 8 MiB of random data from @sender to @dst on @receiver (nc),
    the sender's VIF 0 limited to @rate_mbps so that it lasts a few
    seconds; return once it is under way."""
    sender.run(f'devlink port function rate set {DEVLINK_DEV}/0 '
               f'tx_max {rate_mbps}mbit')
    sender.run('dd if=/dev/urandom of=/tmp/src bs=1M count=8 2>/dev/null')
    nc_listen(receiver, netns)
    time.sleep(0.5)
    nc_send(sender, netns, dst)
    time.sleep(1)
    assert sender.run('test -e /tmp/nc.rc', check=False)[0] != 0, \
        'the transfer was over before it could be disturbed'


def check_transfer(sender, receiver):
    """The transfer ended well and the receiver has the sender's bytes."""
    wait_for_file(sender, '/tmp/nc.rc')
    wait_for_file(receiver, '/tmp/nc.done')
    assert sender.out('cat /tmp/nc.rc').strip() == '0'
    assert receiver.out('stat -c %s /tmp/dst').strip() == str(8 << 20)
    assert sha256(receiver, '/tmp/dst') == sha256(sender, '/tmp/src')


def wire_pair(workdir_hint='selfvirt'):
    """Return netdev arguments for two guests joined by a unix stream."""
    path = os.path.join(tempfile.mkdtemp(prefix=f'{workdir_hint}-wire-'),
                        'wire.sock')
    server = ['-netdev', f'stream,id=wire,server=on,addr.type=unix,'
                         f'addr.path={path}']
    client = ['-netdev', f'stream,id=wire,server=off,addr.type=unix,'
                         f'addr.path={path},reconnect-ms=200']
    return server, client


WIRES = ('stream', 'tap')
REMOTE_WIRES = ('inet', 'dgram')


def parse_peer(text):
    """'HOST:PORT' (an IPv6 host in brackets) as (host, port); ValueError
    naming what is wrong."""
    host, sep, port = text.rpartition(':')
    host = host[1:-1] if host.startswith('[') and host.endswith(']') else host
    if not sep or not host:
        raise ValueError(f'{text!r} is not HOST:PORT')
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f'port {port!r} of {text!r} is not 1..65535')
    return host, int(port)


def add_wire_args(ap):
    """A tool's --wire, --role and --peer (check_wire_args checks them)."""
    ap.add_argument('--wire', help=f'{", ".join(WIRES)} (default stream); '
                    f'with --role: {", ".join(REMOTE_WIRES)} (default inet)')
    ap.add_argument('--role', choices=('left', 'right'),
                    help='run one side here, the other on --peer')
    ap.add_argument('--peer', metavar='HOST:PORT',
                    help='the other side (with --role)')


def check_wire_args(ap, args):
    """--wire, --role and --peer, checked; the defaults filled in and
    args.peer made (host, port)."""
    if bool(args.role) != bool(args.peer):
        ap.error('--role and --peer go together')
    wires = REMOTE_WIRES if args.role else WIRES
    args.wire = args.wire or wires[0]
    if args.wire not in wires:
        ap.error(f"--wire {args.wire}: choose from {', '.join(wires)}"
                 + (' with --role' if args.role else ''))
    if args.peer:
        try:
            args.peer = parse_peer(args.peer)
        except ValueError as e:
            ap.error(f'--peer: {e}')


def remote_end(kind, role, peer):
    """This host's end of a wire to another host, as -netdev arguments (id
    "wire"): 'inet', a TCP stream that the right side listens for on
    @peer's port and the left side connects to at @peer; 'dgram', UDP,
    each side bound to @peer's port and sending to @peer.  @peer is
    (host, port), the other side's address."""
    host, port = peer
    family = 'inet'
    anywhere = '::' if ':' in host else '0.0.0.0'
    if kind == 'inet' and role == 'right':
        return ['-netdev', f'stream,id=wire,server=on,addr.type={family},'
                           f'addr.host={anywhere},addr.port={port}']
    if kind == 'inet' and role == 'left':
        return ['-netdev', f'stream,id=wire,server=off,addr.type={family},'
                           f'addr.host={host},addr.port={port},'
                           'reconnect-ms=200']
    if kind == 'dgram' and role in ('left', 'right'):
        return ['-netdev', f'dgram,id=wire,local.type={family},'
                           f'local.host={anywhere},local.port={port},'
                           f'remote.type={family},remote.host={host},'
                           f'remote.port={port}']
    raise ValueError(f'no {kind!r} wire for role {role!r}')


class Wire:
    """What joins the guests' NICs: each end's -netdev arguments (id
    "wire"), and the command prefix their QEMUs run under (a tap wire's:
    its network namespace)."""

    def __init__(self, ends, wrapper=()):
        self.ends = ends
        self.wrapper = wrapper


def in_netns(ns):
    """The command prefix that runs a command in network namespace @ns."""
    return ('nsenter', f'--net=/run/netns/{ns}', '--')


@contextlib.contextmanager
def _tap_bridge(ends):
    """A network namespace with a Linux bridge br0 and tap devices tap0..
    on it, removed with everything in it at the end: the host's own
    interfaces are never touched."""
    ns = f'svwire-{os.getpid()}-{random.randrange(1 << 30)}'
    ip = ['ip', '-n', ns]
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    try:
        cmds = [['link', 'set', 'lo', 'up'],
                ['link', 'add', 'br0', 'type', 'bridge'],
                ['link', 'set', 'br0', 'up']]
        for i in range(ends):
            cmds += [['tuntap', 'add', 'dev', f'tap{i}', 'mode', 'tap'],
                     ['link', 'set', f'tap{i}', 'master', 'br0', 'up']]
        for cmd in cmds:
            subprocess.run(ip + cmd, check=True)
        yield ns
    finally:
        subprocess.run(['ip', 'netns', 'del', ns], check=False)


@contextlib.contextmanager
def wire(kind='stream', ends=2):
    """A wire between @ends guests: 'stream' (two ends only) joins them
    back to back over a unix socket; 'tap' puts each on a tap device in a
    Linux bridge, as libvirt does, with virtio-net headers (root)."""
    if kind == 'stream':
        if ends != 2:
            raise ValueError('a stream wire has two ends')
        yield Wire(list(wire_pair()))
    elif kind == 'tap':
        with _tap_bridge(ends) as ns:
            yield Wire([['-netdev', f'tap,id=wire,ifname=tap{i},'
                                    'script=no,downscript=no']
                        for i in range(ends)], wrapper=in_netns(ns))
    else:
        raise ValueError(f'no wire {kind!r}: one of {", ".join(WIRES)}')


@contextlib.contextmanager
def frame_sizes(w, ifname):
    """Count the frames that cross tap @ifname of tap wire @w meanwhile
    (what its guest sends and what the bridge gives it); the dict yielded
    gets 'frames', 'largest' and 'over_1514' at the end."""
    prog = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'frame_sizes.py')
    p = subprocess.Popen([*w.wrapper, sys.executable, prog, ifname],
                         stdout=subprocess.PIPE, text=True)
    result = {}
    try:
        # its socket is bound before the traffic starts
        if p.stdout.readline().strip() != 'bound':
            raise RuntimeError(f'frame_sizes.py could not watch {ifname}')
        yield result
    finally:
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
        if p.returncode == 0:
            result.update(json.loads(out))
    if p.returncode:
        raise RuntimeError(f'frame_sizes.py on {ifname} exited '
                           f'{p.returncode}')

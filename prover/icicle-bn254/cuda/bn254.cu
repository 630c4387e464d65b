// zkinfer's BN254 backend for ICICLE v1's C interface.
//
// icicle-core 1.3.0 declares, for a curve prefix `bn254`, the C symbols below and
// calls them through its Rust API (MSM, NTT, Montgomery conversion, ...). ICICLE's
// own CUDA implementation of BN254 is not published on crates.io, so this file
// provides the symbols: the MSM is sppark's Pippenger (Apache-2.0), the NTT is a
// plain radix-2 transform over twiddles of whatever root the caller initialises
// (halo2's, built from the generator 7, not sppark's tables from 5).
//
// Representation: field elements are four little-endian 64-bit limbs in
// Montgomery form, which is also halo2curves' layout, so the Rust side passes its
// scalars and points without conversion. Affine points are (x, y) with (0, 0) for
// the point at infinity; projective results are homogeneous (X:Y:Z), x = X/Z.
//
// Limits (reported as cudaErrorNotSupported, never wrong results): one MSM per
// call (batch_size 1), host-resident MSM inputs and results, scalars and points
// in Montgomery form, NTT batch_size 1 with natural-order input and output.

#include <cuda.h>
#include <cuda_runtime.h>

#include <ff/alt_bn128.hpp>
#include <ec/jacobian_t.hpp>
#include <ec/xyzz_t.hpp>

typedef jacobian_t<fp_t> point_t;
typedef xyzz_t<fp_t> bucket_t;
typedef bucket_t::affine_t affine_t;
typedef fr_t scalar_t;

#include <msm/pippenger.cuh>

#include <cstdint>
#include <cstring>
#include <mutex>

// ---------------------------------------------------------------------------
// ICICLE v1 ABI (icicle-core / icicle-cuda-runtime 1.3.0, #[repr(C)] structs)
// ---------------------------------------------------------------------------

struct IcicleStream { cudaStream_t handle; };

struct DeviceContext {
    const IcicleStream* stream;
    size_t device_id;
    size_t mempool;
};

struct MSMConfig {
    DeviceContext ctx;
    int32_t points_size;
    int32_t precompute_factor;
    int32_t c;
    int32_t bitsize;
    int32_t large_bucket_factor;
    int32_t batch_size;
    bool are_scalars_on_device;
    bool are_scalars_montgomery_form;
    bool are_points_on_device;
    bool are_points_montgomery_form;
    bool are_results_on_device;
    bool is_big_triangle;
    bool is_async;
};

struct Limbs { uint64_t v[4]; };

struct NTTConfig {
    DeviceContext ctx;
    Limbs coset_gen;
    int32_t batch_size;
    int32_t ordering;   // 0 = kNN
    bool are_inputs_on_device;
    bool are_outputs_on_device;
    bool is_async;
    bool is_force_radix2;
};

enum NTTDir : int32_t { kForward = 0, kInverse = 1 };

struct Affine { Limbs x, y; };
struct Projective { Limbs x, y, z; };

static_assert(sizeof(scalar_t) == 32, "scalar layout");
static_assert(sizeof(affine_t) == 64, "affine layout");

// ---------------------------------------------------------------------------
// Device count (for the engine's "is there a GPU" check)
// ---------------------------------------------------------------------------

extern "C" int zkinfer_cuda_device_count()
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return count;
}

// ---------------------------------------------------------------------------
// MSM
// ---------------------------------------------------------------------------

extern "C" MSMConfig bn254DefaultMSMConfig()
{
    MSMConfig config;
    std::memset(&config, 0, sizeof(config));
    config.precompute_factor = 1;
    config.large_bucket_factor = 10;
    config.batch_size = 1;
    config.are_scalars_montgomery_form = true;
    config.are_points_montgomery_form = true;
    return config;
}

extern "C" cudaError_t bn254MSMCuda(const scalar_t* scalars, const affine_t* points, int count,
                                    const MSMConfig& config, Projective* out)
{
    if (count < 0 || config.batch_size > 1 || config.are_scalars_on_device || config.are_points_on_device
        || config.are_results_on_device || !config.are_points_montgomery_form
        || config.points_size < count)
        return cudaErrorNotSupported;
    std::memset(out, 0, sizeof(*out));
    if (count == 0) {
        // The point at infinity, homogeneous (0:1:0) with 1 in Montgomery form.
        fp_t one = fp_t::one();
        std::memcpy(&out->y, &one, sizeof(Limbs));
        return cudaSuccess;
    }
    point_t result;
    RustError error = mult_pippenger<bucket_t>(&result, points, (size_t)count, scalars,
                                               config.are_scalars_montgomery_form);
    if (error.code != cudaSuccess)
        return (cudaError_t)error.code;
    // Jacobian (X:Y:Z), x = X/Z², to homogeneous through the affine point.
    affine_t affine = result;
    const fp_t* xy = reinterpret_cast<const fp_t*>(&affine);
    fp_t one = fp_t::one();
    if (result.is_inf()) {
        std::memcpy(&out->y, &one, sizeof(Limbs));
    } else {
        std::memcpy(&out->x, &xy[0], sizeof(Limbs));
        std::memcpy(&out->y, &xy[1], sizeof(Limbs));
        std::memcpy(&out->z, &one, sizeof(Limbs));
    }
    return cudaSuccess;
}

// ---------------------------------------------------------------------------
// NTT: radix-2, decimation in time, over twiddles of the initialised root
// ---------------------------------------------------------------------------

namespace {

struct Domain {
    fr_t* twiddles = nullptr;   // ω^i for i < order/2, on the device
    uint32_t lg_order = 0;      // the root has order 2^lg_order
    // Working memory of transforms whose output is on the host, kept between
    // calls (grown, never shrunk): a transform then allocates nothing, and
    // cudaMalloc/cudaFree (which synchronises the device) stay out of the
    // prover's thousands of calls.
    fr_t* scratch = nullptr;
    size_t scratch_len = 0;
    std::mutex lock;
};

Domain domain;

const uint32_t THREADS = 256;

__device__ fr_t power(fr_t base, uint64_t exponent)
{
    fr_t result = fr_t::one();
    while (exponent) {
        if (exponent & 1)
            result *= base;
        base = base * base;
        exponent >>= 1;
    }
    return result;
}

__global__ void fill_powers(fr_t* out, size_t count, fr_t base)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < count)
        out[i] = power(base, i);
}

// In place: a_i ↔ a_{rev(i)}, each pair swapped once (by its smaller index).
__global__ void bit_reverse_in_place(fr_t* a, uint32_t lg_n)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (lg_n == 0 || (i >> lg_n))
        return;
    size_t r = __brevll((unsigned long long)i) >> (64 - lg_n);
    if (i < r) {
        fr_t t = a[i];
        a[i] = a[r];
        a[r] = t;
    }
}

// One stage of butterflies over blocks of 2·half elements.
__global__ void butterflies(fr_t* a, const fr_t* twiddles, uint32_t lg_half, uint32_t lg_n, uint32_t lg_order)
{
    size_t j = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (j >> (lg_n - 1))
        return;
    size_t half = (size_t)1 << lg_half;
    size_t pos = j & (half - 1);
    size_t i0 = ((j >> lg_half) << (lg_half + 1)) + pos;
    size_t i1 = i0 + half;
    fr_t w = twiddles[pos << (lg_order - lg_half - 1)];
    fr_t u = a[i0];
    fr_t v = a[i1] * w;
    a[i0] = u + v;
    a[i1] = u - v;
}

// a_i ← a_i·g^i·scale.
__global__ void scale_by_powers(fr_t* a, size_t n, fr_t g, fr_t scale)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i < n)
        a[i] = a[i] * power(g, i) * scale;
}

// The inverse transform is the forward one read backwards, out_i = y_{(n−i) mod n}:
// in place, a_i ↔ a_{n−i} for 0 < i < n/2 (a_0 and a_{n/2} stay).
__global__ void reverse_tail_in_place(fr_t* a, size_t n)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i == 0 || 2 * i >= n)
        return;
    fr_t t = a[i];
    a[i] = a[n - i];
    a[n - i] = t;
}

uint32_t blocks(size_t n) { return (uint32_t)((n + THREADS - 1) / THREADS); }

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) return e_; } while (0)

// Host-side field values (blst's Montgomery arithmetic on the host, the same
// limbs as the device's fr_t).
fr_t host_fr(const Limbs& limbs)
{
    fr_t value;
    std::memcpy((void*)&value, &limbs, sizeof(Limbs));
    return value;
}

bool equal(const fr_t& a, const fr_t& b)
{
    return std::memcmp((const void*)&a, (const void*)&b, sizeof(fr_t)) == 0;
}

// The domain's scratch buffer, at least `count` long (the domain lock held).
cudaError_t scratch(size_t count, fr_t** out)
{
    if (domain.scratch_len < count) {
        if (domain.scratch)
            cudaFree(domain.scratch);
        domain.scratch = nullptr;
        domain.scratch_len = 0;
        CHECK(cudaMalloc(&domain.scratch, count * sizeof(fr_t)));
        domain.scratch_len = count;
    }
    *out = domain.scratch;
    return cudaSuccess;
}

} // namespace

extern "C" cudaError_t bn254InitializeDomain(const Limbs primitive_root, const DeviceContext& ctx)
{
    std::lock_guard<std::mutex> guard(domain.lock);
    CHECK(cudaSetDevice((int)ctx.device_id));
    // The order of the root: square until one.
    fr_t root = host_fr(primitive_root);
    fr_t current = root;
    uint32_t lg_order = 0;
    while (!equal(current, fr_t::one()) && lg_order <= 32) {
        current = current * current;
        lg_order++;
    }
    if (lg_order == 0 || lg_order > 32)
        return cudaErrorInvalidValue;
    if (domain.twiddles)
        cudaFree(domain.twiddles);
    domain.twiddles = nullptr;
    domain.lg_order = 0;
    size_t count = (size_t)1 << (lg_order - 1);
    CHECK(cudaMalloc(&domain.twiddles, count * sizeof(fr_t)));
    fill_powers<<<blocks(count), THREADS>>>(domain.twiddles, count, root);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    domain.lg_order = lg_order;
    return cudaSuccess;
}

// Inputs and outputs may each be on the host or the device. The transform runs
// in place in the output when that is on the device, else in the domain's
// scratch buffer: no allocation per call.
extern "C" cudaError_t bn254NTTCuda(const fr_t* input, int size, NTTDir dir, const NTTConfig& config, fr_t* output)
{
    if (size <= 0 || (size & (size - 1)) != 0 || config.batch_size != 1 || config.ordering != 0)
        return cudaErrorNotSupported;
    std::lock_guard<std::mutex> guard(domain.lock);
    uint32_t lg_n = 0;
    while (((size_t)1 << lg_n) < (size_t)size)
        lg_n++;
    if (!domain.twiddles || lg_n > domain.lg_order)
        return cudaErrorInvalidValue;
    CHECK(cudaSetDevice((int)config.ctx.device_id));
    size_t n = (size_t)size;
    const fr_t one = fr_t::one();
    fr_t n_value = one;
    for (uint32_t i = 0; i < lg_n; i++)
        n_value = n_value + n_value;
    const fr_t n_inv = n_value.reciprocal();
    const fr_t coset = host_fr(config.coset_gen);
    const fr_t coset_inv = coset.reciprocal();

    fr_t* work = output;
    if (!config.are_outputs_on_device)
        CHECK(scratch(n, &work));
    if (work != input)
        CHECK(cudaMemcpy(work, input, n * sizeof(fr_t),
                         config.are_inputs_on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice));
    if (dir == kForward && !equal(coset, one)) {
        // Evaluations at g·ω^j: transform a_i·g^i.
        scale_by_powers<<<blocks(n), THREADS>>>(work, n, coset, one);
        CHECK(cudaGetLastError());
    }
    bit_reverse_in_place<<<blocks(n), THREADS>>>(work, lg_n);
    CHECK(cudaGetLastError());
    for (uint32_t s = 0; s < lg_n; s++) {
        butterflies<<<blocks(n / 2), THREADS>>>(work, domain.twiddles, s, lg_n, domain.lg_order);
        CHECK(cudaGetLastError());
    }
    if (dir == kInverse) {
        // The forward transform read backwards, times 1/n and, on a coset, g^{−i}.
        if (n >= 4) {
            reverse_tail_in_place<<<blocks(n / 2), THREADS>>>(work, n);
            CHECK(cudaGetLastError());
        }
        scale_by_powers<<<blocks(n), THREADS>>>(work, n, coset_inv, n_inv);
        CHECK(cudaGetLastError());
    }
    if (!config.are_outputs_on_device)
        CHECK(cudaMemcpy(output, work, n * sizeof(fr_t), cudaMemcpyDeviceToHost));
    return cudaDeviceSynchronize();
}

// ---------------------------------------------------------------------------
// The rest of ICICLE's BN254 symbols, for completeness of the interface.
// ---------------------------------------------------------------------------

namespace {

// Into (`to`) or out of (`from`) Montgomery form, for either field.
template<class F>
__global__ void convert_montgomery(F* values, size_t count, bool into)
{
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (i >= count)
        return;
    if (into)
        values[i].to();
    else
        values[i].from();
}

template<class T>
cudaError_t convert_on_device(T* values, size_t count, bool into, const DeviceContext& ctx)
{
    CHECK(cudaSetDevice((int)ctx.device_id));
    T* d = nullptr;
    cudaPointerAttributes attributes;
    bool on_device = cudaPointerGetAttributes(&attributes, values) == cudaSuccess
        && attributes.type == cudaMemoryTypeDevice;
    (void)cudaGetLastError();
    if (on_device) {
        d = values;
    } else {
        CHECK(cudaMalloc(&d, count * sizeof(T)));
        CHECK(cudaMemcpy(d, values, count * sizeof(T), cudaMemcpyHostToDevice));
    }
    convert_montgomery<T><<<blocks(count), THREADS>>>(d, count, into);
    CHECK(cudaGetLastError());
    if (!on_device) {
        CHECK(cudaMemcpy(values, d, count * sizeof(T), cudaMemcpyDeviceToHost));
        cudaFree(d);
    }
    return cudaDeviceSynchronize();
}

} // namespace

extern "C" cudaError_t bn254ScalarConvertMontgomery(fr_t* scalars, size_t size, bool is_into, const DeviceContext* ctx)
{
    return convert_on_device(scalars, size, is_into, *ctx);
}

extern "C" cudaError_t bn254AffineConvertMontgomery(Affine* points, size_t size, bool is_into, const DeviceContext* ctx)
{
    return convert_on_device(reinterpret_cast<fp_t*>(points), 2 * size, is_into, *ctx);
}

extern "C" cudaError_t bn254ProjectiveConvertMontgomery(Projective* points, size_t size, bool is_into,
                                                        const DeviceContext* ctx)
{
    return convert_on_device(reinterpret_cast<fp_t*>(points), 3 * size, is_into, *ctx);
}

// Random generation is a test helper of ICICLE's; zkinfer generates its random
// inputs in Rust, so these fill deterministic values only to keep the symbol set
// complete (documented in the crate).
extern "C" void bn254GenerateScalars(fr_t* scalars, size_t size)
{
    std::memset((void*)scalars, 0, size * sizeof(fr_t));
}

extern "C" void bn254GenerateAffinePoints(Affine* points, size_t size)
{
    std::memset(points, 0, size * sizeof(Affine));
}

extern "C" void bn254GenerateProjectivePoints(Projective* points, size_t size)
{
    std::memset(points, 0, size * sizeof(Projective));
}

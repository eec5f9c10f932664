// Fixed-width float vectors for the kernels, written once and compiled for each instruction set: with GCC
// and Clang they are the compilers' generic vectors, which become SSE, AVX or AVX-512 registers according to
// the target region that includes this file; elsewhere (MSVC) a plain array with the same operations, left
// to the compiler's auto-vectorizer.
//
// No include guard on purpose: kernels/registry.inc and lstm.cpp include this file once inside each of their
// instruction-set namespaces, so each gets its own force-inlined copies, after defining there kLanes (the
// floats in one of the target's vectors). It includes nothing: <algorithm>, <cstring>, <cmath>, <utility>
// and, on x86, <immintrin.h> come first (kernels/registry.inc, lstm.cpp).

#ifndef NAM_KERNEL_UNROLL
#  if defined(__GNUC__) || defined(__clang__)
#    define NAM_KERNEL_UNROLL _Pragma("GCC unroll 32")
#  else
#    define NAM_KERNEL_UNROLL
#  endif
#endif

#if defined(__GNUC__) || defined(__clang__)
template <int N>
struct VecOf {
  typedef float type __attribute__((vector_size(N * sizeof(float))));
};
#else
template <int N>
struct VecOf {
  struct type {
    float lane[N];
    NAM_ALWAYS_INLINE float& operator[](const int i) { return lane[i]; }
    NAM_ALWAYS_INLINE float operator[](const int i) const { return lane[i]; }
    NAM_ALWAYS_INLINE type& operator+=(const type& other) {
      for (int i = 0; i < N; ++i)
        lane[i] += other.lane[i];
      return *this;
    }
    NAM_ALWAYS_INLINE friend type operator+(type a, const type& b) { return a += b; }
    NAM_ALWAYS_INLINE friend type operator*(const type& a, const float s) {
      type r;
      for (int i = 0; i < N; ++i)
        r.lane[i] = a.lane[i] * s;
      return r;
    }
    NAM_ALWAYS_INLINE friend type operator*(const type& a, const type& b) {
      type r;
      for (int i = 0; i < N; ++i)
        r.lane[i] = a.lane[i] * b.lane[i];
      return r;
    }
  };
};
#endif

#if defined(__GNUC__) || defined(__clang__)
/// \brief N ints in the registers of Vec<N>, for lane masks.
template <int N>
struct IntsOf {
  typedef int type __attribute__((vector_size(N * sizeof(int))));
};
#endif

/// \brief N floats in one (or, past the target's width, several) vector registers.
template <int N>
using Vec = typename VecOf<N>::type;

/// \brief N lanes set to zero.
template <int N>
NAM_ALWAYS_INLINE Vec<N> zeros() {
  Vec<N> v;
  std::memset(&v, 0, sizeof v);
  return v;
}

/// \brief `value` in all N lanes.
template <int N>
NAM_ALWAYS_INLINE Vec<N> broadcast(const float value) {
  // One initializer per lane, which compilers see as a single broadcast (a loop of lane stores may stay
  // a series of masked inserts).
  return [value]<int... Lane>(std::integer_sequence<int, Lane...>) {
    return Vec<N>{(static_cast<void>(Lane), value)...};
  }
  (std::make_integer_sequence<int, N>());
}

/// \brief `v` with lanes `count` (0 to N) and above cleared to +0 bit by bit, so that nothing read there,
/// not even a NaN, survives.
template <int N>
NAM_ALWAYS_INLINE Vec<N> keep_lanes_below(const Vec<N>& v, const int count) {
#if defined(__GNUC__) || defined(__clang__)
  typename IntsOf<N>::type index, bits;
  for (int i = 0; i < N; ++i)
    index[i] = i;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= index < count; // all bits set where kept
  Vec<N> result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
#else
  Vec<N> result = v;
  for (int i = count; i < N; ++i)
    result[i] = 0.0f;
  return result;
#endif
}

/// \brief |v| in every lane (the sign bit cleared, as std::fabs does).
template <int N>
NAM_ALWAYS_INLINE Vec<N> abs_lanes(const Vec<N>& v) {
#if defined(__GNUC__) || defined(__clang__)
  typedef unsigned int Bits __attribute__((vector_size(N * sizeof(float))));
  Bits bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= 0x7fffffffu;
  Vec<N> result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
#else
  Vec<N> result;
  for (int i = 0; i < N; ++i) {
    unsigned int bits;
    std::memcpy(&bits, &v[i], sizeof bits);
    bits &= 0x7fffffffu;
    std::memcpy(&result[i], &bits, sizeof bits);
  }
  return result;
#endif
}

/// \brief std::max(a, b) (kMax) or std::min(a, b) in every lane: `a < b ? b : a` or `b < a ? b : a`, so
/// a NaN in `a` and the second of two zeros of either sign survive (one vmaxps or vminps with its operands
/// swapped, where the compiler would compare and blend; at AVX-512 in the masked form, because GCC 12's
/// unmasked one reads an undefined register and warns).
template <bool kMax, class V>
NAM_ALWAYS_INLINE V extreme_lanes(const V& a, const V& b) {
  constexpr int kCount = static_cast<int>(sizeof(V) / sizeof(float));
#if NAM_KERNELS_X86
  if constexpr (kCount == 16 && kLanes >= 16)
    return kMax ? _mm512_maskz_max_ps(0xffff, b, a) : _mm512_maskz_min_ps(0xffff, b, a);
  else if constexpr (kCount == 8 && kLanes >= 8)
    return kMax ? _mm256_max_ps(b, a) : _mm256_min_ps(b, a);
  else if constexpr (kCount == 4)
    return kMax ? _mm_max_ps(b, a) : _mm_min_ps(b, a);
#endif
  V result;
  for (int i = 0; i < kCount; ++i)
    result[i] = kMax ? std::max(a[i], b[i]) : std::min(a[i], b[i]);
  return result;
}

/// \brief std::max(a, b) in every lane (extreme_lanes).
template <class V>
NAM_ALWAYS_INLINE V max_lanes(const V& a, const V& b) {
  return extreme_lanes<true>(a, b);
}

/// \brief std::min(a, b) in every lane (extreme_lanes).
template <class V>
NAM_ALWAYS_INLINE V min_lanes(const V& a, const V& b) {
  return extreme_lanes<false>(a, b);
}

/// \brief N consecutive floats from `p` (no alignment needed).
template <int N>
NAM_ALWAYS_INLINE Vec<N> load(const float* p) {
  Vec<N> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// \brief The two floats at `p` repeated across N lanes (p[0], p[1], p[0], ...): one 64-bit broadcast load.
template <int N>
NAM_ALWAYS_INLINE Vec<N> load_repeated_pair(const float* p) {
  static_assert(N % 2 == 0, "pairs fill whole vectors");
  Vec<N> v;
#if defined(__GNUC__) || defined(__clang__)
  // Broadcast as one 64-bit integer (or-ing it into zeros is exact, so compilers keep a plain broadcast).
  typedef unsigned long long Pairs __attribute__((vector_size(N * sizeof(float))));
  unsigned long long pair;
  std::memcpy(&pair, p, sizeof pair);
  const Pairs repeated = Pairs{} | pair;
  std::memcpy(&v, &repeated, sizeof v);
#else
  for (int i = 0; i < N; ++i)
    v[i] = p[i % 2];
#endif
  return v;
}

/// \brief Writes all lanes of `v` to consecutive floats from `p` (no alignment needed).
template <class V>
NAM_ALWAYS_INLINE void store(float* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

/// \brief `p + offset` when kUsed, else null: moves a pointer (an optional addend) that is read only when
/// kUsed, and may be null otherwise.
template <bool kUsed>
NAM_ALWAYS_INLINE const float* offset_if(const float* p, const long offset) {
  return kUsed ? p + offset : nullptr;
}

/// \brief Writes `v` to consecutive floats from `p + at`, plus the floats from `addend + at` when kAdd
/// (only then is `addend` read or offset, so it may be null otherwise; it must not overlap `p`).
template <bool kAdd, class V>
NAM_ALWAYS_INLINE void store_sum(float* p, const float* addend, const long at, const V& v) {
  constexpr int kCount = static_cast<int>(sizeof(V) / sizeof(float));
  if constexpr (kAdd)
    store(p + at, load<kCount>(addend + at) + v);
  else
    store(p + at, v);
}

/// \brief Lanes [From, From + Count) of `v`, as a register extract (GCC copies a part other than the lowest
/// through memory when asked by memcpy).
template <int From, int Count, class V>
NAM_ALWAYS_INLINE Vec<Count> lanes(const V& v) {
  static_assert((From + Count) * sizeof(float) <= sizeof(V), "lanes out of range");
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
  return [&v]<int... Lane>(std::integer_sequence<int, Lane...>) {
    return Vec<Count>(__builtin_shufflevector(v, v, (From + Lane)...));
  }
  (std::make_integer_sequence<int, Count>());
#else
  Vec<Count> part;
  std::memcpy(&part, reinterpret_cast<const float*>(&v) + From, sizeof part);
  return part;
#endif
}

/// \brief `a * b + c` (a float or any Vec) in every lane with one rounding, as std::fma, whether or not the
/// compiler contracts: GCC does not below -O2, and when tuned for some CPUs (AMD Zen) it splits a loop's
/// chain of multiply-adds into multiplies and adds, which would round a loop's frames unlike its tail's.
/// Only in regions whose target has FMA (or, elsewhere, lane by lane through std::fma). Vectors narrower
/// than 4 lanes go lane by lane; vectors wider than the region's kLanes, half by half.
NAM_ALWAYS_INLINE float fused_multiply_add(const float a, const float b, const float c) {
  return std::fma(a, b, c);
}

/// \brief fused_multiply_add lane by lane.
template <class V>
NAM_ALWAYS_INLINE V fused_multiply_add(const V& a, const V& b, const V& c) {
  constexpr int kCount = static_cast<int>(sizeof(V) / sizeof(float));
  if constexpr (kCount > kLanes) {
    constexpr int kHalf = kCount / 2;
    V result;
    const Vec<kHalf> low = fused_multiply_add(lanes<0, kHalf>(a), lanes<0, kHalf>(b), lanes<0, kHalf>(c));
    const Vec<kHalf> high =
        fused_multiply_add(lanes<kHalf, kHalf>(a), lanes<kHalf, kHalf>(b), lanes<kHalf, kHalf>(c));
    std::memcpy(&result, &low, sizeof low);
    std::memcpy(reinterpret_cast<float*>(&result) + kHalf, &high, sizeof high);
    return result;
  } else {
#if NAM_KERNELS_X86
    if constexpr (kCount == 16)
      return _mm512_fmadd_ps(a, b, c);
    else if constexpr (kCount == 8)
      return _mm256_fmadd_ps(a, b, c);
    else if constexpr (kCount == 4)
      return _mm_fmadd_ps(a, b, c);
#endif
    V result;
    for (int i = 0; i < kCount; ++i)
      result[i] = std::fma(a[i], b[i], c[i]);
    return result;
  }
}

/// \brief `a * b + c` with the rounding an instruction set's kernels keep: one fused multiply-add when
/// kFused (explicitly, see fused_multiply_add), else a product and then a sum.
template <bool kFused, class V>
NAM_ALWAYS_INLINE V multiply_add(const V& a, const V& b, const V& c) {
  if constexpr (kFused)
    return fused_multiply_add(a, b, c);
  else
    return a * b + c;
}

/// \brief The largest power of two that is at most `n` (n >= 1).
constexpr int power_of_two_floor(const int n) {
  int p = 1;
  while (p * 2 <= n)
    p *= 2;
  return p;
}

/// \brief log2 of a power of two `n`.
constexpr int power_of_two_log2(const int n) {
  return n > 1 ? 1 + power_of_two_log2(n / 2) : 0;
}

/// \brief Writes lanes [From, From + Count) of `v` to `y + From` in power-of-two pieces (a group of 6
/// outputs is a 4-store and a 2-store), so that the padding lanes are never stored (nor, with kAdd, the
/// addend read past its real lanes). With kAdd each piece first gets the addend's matching floats added.
template <bool kAdd, int From, int Count, class V>
NAM_ALWAYS_INLINE void store_lanes(float* NAM_RESTRICT y, const float* NAM_RESTRICT addend, const V& v) {
  if constexpr (Count > 0) {
    constexpr int kPiece = power_of_two_floor(Count);
    store_sum<kAdd>(y, addend, From, lanes<From, kPiece>(v));
    store_lanes<kAdd, From + kPiece, Count - kPiece>(y, addend, v);
  }
}

/// \brief The vector of lanes `Map::lane(0), Map::lane(1), ...` of `v`: a permutation, repetition or
/// spread of its lanes fixed at compile time (one shuffle, or a broadcast when `v` was just loaded).
template <class Map, int... Lane, class V>
NAM_ALWAYS_INLINE Vec<sizeof...(Lane)> shuffle_lanes(const V& v, std::integer_sequence<int, Lane...>) {
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
  return __builtin_shufflevector(v, v, Map::lane(Lane)...);
#else
  Vec<sizeof...(Lane)> shuffled;
  ((shuffled[Lane] = v[Map::lane(Lane)]), ...);
  return shuffled;
#endif
}

/// \brief Lane l takes lane l % kRows: a vector of kRows lanes repeated.
template <int kRows>
struct RepeatedRows {
  /// \brief The source lane of lane `l`.
  static constexpr int lane(const int l) { return l % kRows; }
};

/// \brief shuffle_lanes into an N-lane vector.
template <class Map, int N, class V>
NAM_ALWAYS_INLINE Vec<N> shuffle_lanes(const V& v) {
  return shuffle_lanes<Map>(v, std::make_integer_sequence<int, N>());
}

/// \brief shuffle_lanes of two vectors of N lanes read as one of 2N: lane l takes lane `Map::lane(l)` of
/// `low` when it is below N, else lane `Map::lane(l) - N` of `high` (one two-source shuffle).
template <class Map, int N, int... Lane>
NAM_ALWAYS_INLINE Vec<N> shuffle_pair(const Vec<N>& low, const Vec<N>& high,
                                      std::integer_sequence<int, Lane...>) {
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
  return __builtin_shufflevector(low, high, Map::lane(Lane)...);
#else
  Vec<N> shuffled;
  ((shuffled[Lane] = Map::lane(Lane) < N ? low[Map::lane(Lane) % N] : high[Map::lane(Lane) % N]), ...);
  return shuffled;
#endif
}

/// \brief shuffle_pair over all N lanes.
template <class Map, int N>
NAM_ALWAYS_INLINE Vec<N> shuffle_pair(const Vec<N>& low, const Vec<N>& high) {
  return shuffle_pair<Map, N>(low, high, std::make_integer_sequence<int, N>());
}

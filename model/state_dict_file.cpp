#include "state_dict_file.h"

#include <cstring>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <caffe2/serialize/inline_container.h>

#include "safetensors.h"  // WeightsError, read_file_bytes

namespace facesr {
namespace {

// --- A Python object as far as a state dict needs ---------------------------------------------------

struct PyObj;
using Obj = std::shared_ptr<PyObj>;

struct PyObj {
  enum class Kind { None, Bool, Int, BigInt, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;                          // Bool, Int; Storage: element count
  double f = 0;                           // Float
  std::string s;                          // String; BigInt: little-endian bytes; Global: "module.name";
                                          // Storage: key of the storage holding the data
  std::vector<Obj> items;                 // Tuple, List
  std::vector<std::pair<Obj, Obj>> dict;  // Dict, in insertion order
  at::ScalarType dtype = at::kFloat;      // Storage
  int64_t view_offset = 0;                // Storage (legacy views): first element inside storage `s`
  Obj storage;                            // Tensor
  int64_t offset = 0;                     // Tensor: storage offset, in elements
  std::vector<int64_t> sizes, strides;    // Tensor
};

Obj make(PyObj::Kind kind) {
  auto o = std::make_shared<PyObj>();
  o->kind = kind;
  return o;
}

const char* kind_name(PyObj::Kind kind) {
  switch (kind) {
    case PyObj::Kind::None: return "None";
    case PyObj::Kind::Bool: return "bool";
    case PyObj::Kind::Int: return "int";
    case PyObj::Kind::BigInt: return "big int";
    case PyObj::Kind::Float: return "float";
    case PyObj::Kind::String: return "str";
    case PyObj::Kind::Tuple: return "tuple";
    case PyObj::Kind::List: return "list";
    case PyObj::Kind::Dict: return "dict";
    case PyObj::Kind::Global: return "class or function";
    case PyObj::Kind::Storage: return "storage";
    case PyObj::Kind::Tensor: return "tensor";
  }
  return "?";
}

// torch.<Type>Storage -> element type.
bool storage_dtype(const std::string& global, at::ScalarType* dtype) {
  static const std::map<std::string, at::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat},   {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},     {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},     {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},   {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},     {"torch.BoolStorage", at::kBool}};
  const auto it = types.find(global);
  if (it == types.end()) return false;
  *dtype = it->second;
  return true;
}

// --- The pickle virtual machine, restricted to data -------------------------------------------------

class Unpickler {
 public:
  using PersistentLoad = std::function<Obj(const Obj& pid)>;
  Unpickler(const uint8_t* data, std::size_t size, std::size_t start, std::string source, PersistentLoad load)
      : data_(data), size_(size), pos_(start), source_(std::move(source)), persistent_load_(std::move(load)) {}

  // Runs one pickle up to its STOP; position() is then the byte after it.
  Obj load();
  std::size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw WeightsError(source_ + ": " + what + " (pickle byte " + std::to_string(pos_) + ")");
  }
  const uint8_t* take(std::size_t n) {
    if (n > size_ - pos_) fail("truncated");
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t read_le(std::size_t n) {
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
    return v;
  }
  std::string read_string(uint64_t n) {
    if (n > size_ - pos_) fail("truncated string");
    const char* p = reinterpret_cast<const char*>(take(static_cast<std::size_t>(n)));
    return std::string(p, static_cast<std::size_t>(n));
  }
  std::string read_line() {
    std::string line;
    while (true) {
      const char c = static_cast<char>(*take(1));
      if (c == '\n') return line;
      line += c;
    }
  }
  Obj pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("pickle stack underflow");
    Obj o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Obj& top() {
    if (stack_.empty()) fail("pickle stack underflow");
    return stack_.back();
  }
  std::vector<Obj> pop_to_mark() {
    if (marks_.empty()) fail("pickle MARK missing");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    if (mark > stack_.size()) fail("pickle MARK past the stack");
    std::vector<Obj> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  void memo_put(uint64_t index) { memo_[index] = top(); }
  Obj memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("pickle memo entry " + std::to_string(index) + " missing");
    return it->second;
  }
  Obj tuple_of(std::vector<Obj> items) {
    Obj t = make(PyObj::Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  void set_items(Obj& dict, const std::vector<Obj>& kv) {
    if (dict->kind != PyObj::Kind::Dict) fail(std::string("SETITEMS on a ") + kind_name(dict->kind));
    if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of items");
    for (std::size_t k = 0; k < kv.size(); k += 2) dict->dict.emplace_back(kv[k], kv[k + 1]);
  }
  Obj call(const Obj& callable, const Obj& args);
  Obj rebuild_tensor(const std::vector<Obj>& args, const std::string& how);

  const uint8_t* data_;
  std::size_t size_, pos_;
  std::string source_;
  PersistentLoad persistent_load_;
  std::vector<Obj> stack_;
  std::vector<std::size_t> marks_;
  std::map<uint64_t, Obj> memo_;
};

int64_t as_int(const Obj& o, const std::string& what, const std::string& source) {
  if (o->kind != PyObj::Kind::Int && o->kind != PyObj::Kind::Bool)
    throw WeightsError(source + ": " + what + " is a " + kind_name(o->kind) + ", not an int");
  return o->i;
}

std::vector<int64_t> int_tuple(const Obj& o, const std::string& what, const std::string& source) {
  if (o->kind != PyObj::Kind::Tuple && o->kind != PyObj::Kind::List)
    throw WeightsError(source + ": " + what + " is a " + kind_name(o->kind) + ", not a tuple");
  std::vector<int64_t> out;
  for (const auto& item : o->items) out.push_back(as_int(item, what, source));
  return out;
}

Obj Unpickler::rebuild_tensor(const std::vector<Obj>& args, const std::string& how) {
  if (args.size() < 4) fail(how + " with " + std::to_string(args.size()) + " arguments");
  if (args[0]->kind != PyObj::Kind::Storage) fail(how + " of a " + kind_name(args[0]->kind) + ", not a storage");
  Obj t = make(PyObj::Kind::Tensor);
  t->storage = args[0];
  t->offset = as_int(args[1], "tensor storage offset", source_);
  t->sizes = int_tuple(args[2], "tensor size", source_);
  t->strides = int_tuple(args[3], "tensor stride", source_);
  return t;
}

Obj Unpickler::call(const Obj& callable, const Obj& args) {
  if (callable->kind != PyObj::Kind::Global) fail(std::string("call of a ") + kind_name(callable->kind));
  if (args->kind != PyObj::Kind::Tuple) fail("call of " + callable->s + " without an argument tuple");
  const std::string& name = callable->s;
  if (name == "collections.OrderedDict" || name == "builtins.dict") {
    if (!args->items.empty()) fail(name + " with arguments");
    return make(PyObj::Kind::Dict);
  }
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    return rebuild_tensor(args->items, name);
  if (name == "torch.jit._pickle.restore_type_tag") {  // torch::pickle_save: (object, "Dict[str, Tensor]")
    if (args->items.empty()) fail(name + " without an object");
    return args->items[0];
  }
  if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
    if (args->items.empty() || args->items[0]->kind != PyObj::Kind::Tensor) fail(name + " without a tensor");
    return args->items[0];
  }
  fail("holds a Python object of type " + name +
       ", which a state dict does not have (only tensors in dicts are read; nothing is executed)");
}

Obj Unpickler::load() {
  while (true) {
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80: take(1); break;                  // PROTO
      case 0x95: take(8); break;                  // FRAME
      case '.':                                   // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("pickle ends with " + std::to_string(stack_.size()) + " objects");
        return stack_.back();
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '0': pop(); break;                     // POP
      case '1': pop_to_mark(); break;             // POP_MARK
      case '2': stack_.push_back(top()); break;   // DUP
      case 'N': stack_.push_back(make(PyObj::Kind::None)); break;
      case 0x88: case 0x89: {                     // NEWTRUE, NEWFALSE
        Obj b = make(PyObj::Kind::Bool);
        b->i = op == 0x88;
        stack_.push_back(b);
        break;
      }
      case 'J': case 'K': case 'M': {             // BININT (4 bytes, signed), BININT1, BININT2
        Obj v = make(PyObj::Kind::Int);
        const uint64_t raw = read_le(op == 'J' ? 4 : op == 'K' ? 1 : 2);
        v->i = op == 'J' ? static_cast<int64_t>(static_cast<int32_t>(raw)) : static_cast<int64_t>(raw);
        stack_.push_back(v);
        break;
      }
      case 0x8a: case 0x8b: {                     // LONG1, LONG4: little-endian two's complement
        const uint64_t n = read_le(op == 0x8a ? 1 : 4);
        if (n > 1024) fail("integer of " + std::to_string(n) + " bytes");
        const std::string bytes = read_string(n);
        Obj v = make(n <= 8 ? PyObj::Kind::Int : PyObj::Kind::BigInt);
        if (n <= 8) {
          uint64_t u = 0;
          for (std::size_t k = 0; k < n; ++k) u |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[k])) << (8 * k);
          if (n > 0 && n < 8 && (static_cast<uint8_t>(bytes[n - 1]) & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign
          v->i = static_cast<int64_t>(u);
        } else {
          v->s = bytes;
        }
        stack_.push_back(v);
        break;
      }
      case 'G': {                                 // BINFLOAT: big-endian double
        const uint8_t* p = take(8);
        uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = (u << 8) | p[k];
        Obj v = make(PyObj::Kind::Float);
        std::memcpy(&v->f, &u, sizeof u);
        stack_.push_back(v);
        break;
      }
      case 'X': case 0x8c: case 0x8d:             // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
      case 'B': case 'C': case 0x8e:              // BINBYTES, SHORT_BINBYTES, BINBYTES8
      case 'T': case 'U': {                       // BINSTRING, SHORT_BINSTRING
        const std::size_t width = (op == 0x8c || op == 'C' || op == 'U') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
        Obj v = make(PyObj::Kind::String);
        v->s = read_string(read_le(width));
        stack_.push_back(v);
        break;
      }
      case 'c': {                                 // GLOBAL "module\nname\n"
        Obj g = make(PyObj::Kind::Global);
        const std::string module = read_line();
        g->s = module + "." + read_line();
        stack_.push_back(g);
        break;
      }
      case 0x93: {                                // STACK_GLOBAL
        const Obj name = pop(), module = pop();
        if (name->kind != PyObj::Kind::String || module->kind != PyObj::Kind::String) fail("STACK_GLOBAL of non-strings");
        Obj g = make(PyObj::Kind::Global);
        g->s = module->s + "." + name->s;
        stack_.push_back(g);
        break;
      }
      case ')': stack_.push_back(make(PyObj::Kind::Tuple)); break;  // EMPTY_TUPLE
      case 't': stack_.push_back(tuple_of(pop_to_mark())); break;    // TUPLE
      case 0x85: case 0x86: case 0x87: {          // TUPLE1, TUPLE2, TUPLE3
        std::vector<Obj> items(static_cast<std::size_t>(op - 0x84));
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        stack_.push_back(tuple_of(std::move(items)));
        break;
      }
      case ']': stack_.push_back(make(PyObj::Kind::List)); break;   // EMPTY_LIST
      case '}': stack_.push_back(make(PyObj::Kind::Dict)); break;   // EMPTY_DICT
      case 'a': {                                 // APPEND
        const Obj item = pop();
        if (top()->kind != PyObj::Kind::List) fail("APPEND to a non-list");
        top()->items.push_back(item);
        break;
      }
      case 'e': {                                 // APPENDS
        auto items = pop_to_mark();
        if (top()->kind != PyObj::Kind::List) fail("APPENDS to a non-list");
        top()->items.insert(top()->items.end(), items.begin(), items.end());
        break;
      }
      case 's': {                                 // SETITEM
        const Obj value = pop(), key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {                                 // SETITEMS
        const auto kv = pop_to_mark();
        set_items(top(), kv);
        break;
      }
      case 'q': memo_put(read_le(1)); break;      // BINPUT
      case 'r': memo_put(read_le(4)); break;      // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;   // MEMOIZE
      case 'h': stack_.push_back(memo_get(read_le(1))); break;  // BINGET
      case 'j': stack_.push_back(memo_get(read_le(4))); break;  // LONG_BINGET
      case 'Q': {                                 // BINPERSID
        const Obj pid = pop();
        stack_.push_back(persistent_load_(pid));
        break;
      }
      case 'R': case 0x81: {                      // REDUCE (callable, args), NEWOBJ (cls, args)
        const Obj args = pop(), callable = pop();
        stack_.push_back(call(callable, args));
        break;
      }
      case 'b': pop(); break;  // BUILD: the state of an OrderedDict (its _metadata) is not needed
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unsupported pickle opcode ") + hex +
             " (not a torch.save file, or one that holds more than tensors)");
      }
    }
  }
}

// ('storage', torch.<Type>Storage, key, location, numel[, view_metadata]) -> a Storage object.
Obj storage_from_pid(const Obj& pid, const std::string& source) {
  if (pid->kind != PyObj::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != PyObj::Kind::String ||
      pid->items[0]->s != "storage" || pid->items[1]->kind != PyObj::Kind::Global ||
      pid->items[2]->kind != PyObj::Kind::String)
    throw WeightsError(source + ": a persistent object that is not a tensor storage");
  Obj storage = make(PyObj::Kind::Storage);
  if (!storage_dtype(pid->items[1]->s, &storage->dtype))
    throw WeightsError(source + ": storage of unsupported type " + pid->items[1]->s);
  storage->s = pid->items[2]->s;
  storage->i = as_int(pid->items[4], "storage size", source);
  if (storage->i < 0) throw WeightsError(source + ": storage '" + storage->s + "' has a negative size");
  if (pid->items.size() >= 6 && pid->items[5]->kind == PyObj::Kind::Tuple) {  // legacy view of another storage
    const auto& view = pid->items[5]->items;
    if (view.size() != 3 || view[0]->kind != PyObj::Kind::String)
      throw WeightsError(source + ": malformed storage view of '" + storage->s + "'");
    storage->s = view[0]->s;
    storage->view_offset = as_int(view[1], "storage view offset", source);
    storage->i = as_int(view[2], "storage view size", source);
  }
  return storage;
}

struct StorageBytes {
  const uint8_t* data = nullptr;
  int64_t numel = 0;  // elements the bytes hold
};

// The tensor described by `t`, copied out of its storage bytes (checked against them first).
at::Tensor materialize(const PyObj& t, const std::map<std::string, StorageBytes>& storages,
                       const std::string& name, const std::string& source) {
  const PyObj& storage = *t.storage;
  const auto it = storages.find(storage.s);
  if (it == storages.end()) throw WeightsError(source + ": '" + name + "': the data of storage '" + storage.s + "' is missing");
  const StorageBytes& bytes = it->second;
  const std::string where = source + ": '" + name + "': ";
  if (storage.view_offset < 0 || storage.i > bytes.numel - storage.view_offset)
    throw WeightsError(where + "storage view runs past the " + std::to_string(bytes.numel) + " elements stored");
  if (t.sizes.size() != t.strides.size() || t.offset < 0) throw WeightsError(where + "malformed size/stride/offset");
  // Highest element index the view touches; an empty tensor touches none.
  bool empty = false;
  int64_t last = t.offset;
  for (std::size_t d = 0; d < t.sizes.size(); ++d) {
    if (t.sizes[d] < 0 || t.strides[d] < 0) throw WeightsError(where + "negative size or stride");
    int64_t step = 0;
    if (t.sizes[d] == 0) empty = true;
    else if (__builtin_mul_overflow(t.sizes[d] - 1, t.strides[d], &step) || __builtin_add_overflow(last, step, &last))
      throw WeightsError(where + "size x stride overflows");
  }
  if (!empty && last >= storage.i)
    throw WeightsError(where + "shape " + c10::str(c10::IntArrayRef(t.sizes)) + " at offset " + std::to_string(t.offset) +
                       " runs past its storage of " + std::to_string(storage.i) + " elements");
  const at::Tensor flat = at::from_blob(const_cast<uint8_t*>(bytes.data) + storage.view_offset * c10::elementSize(storage.dtype),
                                        {storage.i}, at::TensorOptions().dtype(storage.dtype));
  if (empty) return at::empty(t.sizes, flat.options());
  return flat.as_strided(t.sizes, t.strides, t.offset).clone(at::MemoryFormat::Contiguous);
}

// The tensors of the top-level dict, materialized from `storages`.
std::map<std::string, at::Tensor> collect(const Obj& root, const std::map<std::string, StorageBytes>& storages,
                                          const std::string& source, const std::string& expected) {
  if (root->kind != PyObj::Kind::Dict)
    throw WeightsError(source + ": holds a " + std::string(kind_name(root->kind)) + ", not a state dict (expected " +
                       expected + ")");
  std::map<std::string, at::Tensor> out;
  for (const auto& [key, value] : root->dict) {
    if (key->kind != PyObj::Kind::String || value->kind != PyObj::Kind::Tensor) continue;
    out[key->s] = materialize(*value, storages, key->s, source);
  }
  return out;
}

std::map<std::string, at::Tensor> read_zip(const std::string& path, const std::string& expected) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw WeightsError(path + ": not a readable zip archive (expected " + expected + "): " + e.what_without_backtrace());
  }
  if (!zip->hasRecord("data.pkl"))
    throw WeightsError(path + ": a zip archive without data.pkl, not a torch.save file (expected " + expected + ")");
  std::vector<at::DataPtr> records;  // keep the storage bytes alive until the tensors are copied
  std::map<std::string, StorageBytes> storages;
  auto load_storage = [&](const Obj& pid) {
    Obj storage = storage_from_pid(pid, path);
    if (storages.count(storage->s)) return storage;
    const std::string record = "data/" + storage->s;
    if (!zip->hasRecord(record)) throw WeightsError(path + ": storage record " + record + " is missing");
    auto [data, size] = zip->getRecord(record);
    StorageBytes bytes{static_cast<const uint8_t*>(data.get()),
                       static_cast<int64_t>(size / c10::elementSize(storage->dtype))};
    storages[storage->s] = bytes;
    records.push_back(std::move(data));
    return storage;
  };
  auto [pickle, pickle_size] = zip->getRecord("data.pkl");
  Unpickler unpickler(static_cast<const uint8_t*>(pickle.get()), pickle_size, 0, path, load_storage);
  return collect(unpickler.load(), storages, path, expected);
}

// Magic number of the legacy format, 0x1950a86a20f9469cfc6c, as the bytes of a pickled int.
const std::string kLegacyMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);

std::map<std::string, at::Tensor> read_legacy(const std::string& path, const std::vector<uint8_t>& file,
                                              const std::string& expected) {
  const std::string not_torch = path + ": not a torch.save file (expected " + expected + ")";
  auto no_storage = [&](const Obj&) -> Obj { throw WeightsError(not_torch); };
  std::size_t pos = 0;
  Unpickler magic(file.data(), file.size(), pos, path, no_storage);
  const Obj number = magic.load();
  if (number->kind != PyObj::Kind::BigInt || number->s != kLegacyMagic) throw WeightsError(not_torch);
  Unpickler version(file.data(), file.size(), magic.position(), path, no_storage);
  if (as_int(version.load(), "legacy format version", path) != 1001)
    throw WeightsError(path + ": legacy torch.save file of an unknown format version");
  Unpickler sys_info(file.data(), file.size(), version.position(), path, no_storage);
  const Obj info = sys_info.load();
  for (const auto& [key, value] : info->dict)
    if (key->s == "little_endian" && value->i != 1) throw WeightsError(path + ": saved on a big-endian machine");

  std::map<std::string, at::ScalarType> dtypes;
  Unpickler object(file.data(), file.size(), sys_info.position(), path, [&](const Obj& pid) {
    Obj storage = storage_from_pid(pid, path);
    dtypes[storage->s] = storage->dtype;
    return storage;
  });
  const Obj root = object.load();
  Unpickler keys_pickle(file.data(), file.size(), object.position(), path, no_storage);
  const Obj keys = keys_pickle.load();
  if (keys->kind != PyObj::Kind::List) throw WeightsError(path + ": legacy storage key list missing");
  pos = keys_pickle.position();
  std::map<std::string, StorageBytes> storages;
  for (const auto& key : keys->items) {
    if (key->kind != PyObj::Kind::String || !dtypes.count(key->s))
      throw WeightsError(path + ": legacy storage list names a storage no tensor uses");
    const std::string cut = path + ": storage '" + key->s + "' is cut short: the file ends inside its data (truncated";
    if (file.size() - pos < 8) throw WeightsError(cut + " download?)");
    int64_t numel = 0;
    std::memcpy(&numel, file.data() + pos, 8);
    pos += 8;
    const auto element = static_cast<int64_t>(c10::elementSize(dtypes[key->s]));
    if (numel < 0 || numel > static_cast<int64_t>(file.size() - pos) / element)
      throw WeightsError(cut + " download? it claims " + std::to_string(numel) + " elements)");
    storages[key->s] = {file.data() + pos, numel};
    pos += static_cast<std::size_t>(numel * element);
  }
  return collect(root, storages, path, expected);
}

}  // namespace

std::map<std::string, at::Tensor> read_state_dict_file(const std::string& path, const std::string& expected) {
  const std::vector<uint8_t> file = read_file_bytes(path);
  try {
    if (file.size() >= 4 && std::memcmp(file.data(), "PK\x03\x04", 4) == 0) return read_zip(path, expected);
    if (file.size() >= 2 && file[0] == 0x80) return read_legacy(path, file, expected);
  } catch (const c10::Error& e) {
    throw WeightsError(path + ": " + e.what_without_backtrace());
  }
  if (file.size() > 262 && std::memcmp(file.data() + 257, "ustar", 5) == 0)
    throw WeightsError(path + ": a tar-format torch.save file (PyTorch before 0.4), not supported: re-save it "
                       "with a recent PyTorch (torch.save(torch.load(f), f))");
  throw WeightsError(path + ": not a torch.save file (expected " + expected + ")");
}

}  // namespace facesr

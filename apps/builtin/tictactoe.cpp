// Tic-tac-toe, the original's demo: two players, X (the first to join) and
// O, claim cells in turn; three in a row wins; a full board, or a tie that
// both players offered, ends in a tie; a player may forfeit. Every method
// validates against the provisional state (a move still in the log counts)
// and refuses with a message a player can read.
//
// The state: {"players": ["X", ...] (seats taken, in order), "seats":
// {"X": who, ...} (the name each joined under, when they gave one), "board":
// nine cells of null, "X" or "O" (row by row), "turn": "X" or "O",
// "winner": null, "X" or "O", "tie": bool, "tieOffers": ["X", ...]}.
// join(name) with a name is idempotent per name: a page that asks again
// after a timeout (its first join may have committed) never takes both seats.
#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <conflux/errors.hpp>

#include "apps.hpp"

namespace conflux::apps {
namespace {

namespace json = boost::json;

json::value initial() {
  json::array board(9, nullptr);
  return json::object{{"players", json::array{}},  {"seats", json::object{}},
                      {"board", std::move(board)}, {"turn", "X"},
                      {"winner", nullptr},         {"tie", false},
                      {"tieOffers", json::array{}}};
}

bool over(const json::object& game) {
  return !game.at("winner").is_null() || game.at("tie").as_bool();
}

/// `args[0]`, checked to be a player who joined; refuses otherwise, and
/// when the game cannot take a move (not started, or over).
std::string player_of(const json::value& state, const json::array& args, std::size_t count) {
  if (args.size() != count) {
    throw Rejection("this move takes " + std::to_string(count) + " argument" +
                    (count == 1 ? "" : "s"));
  }
  const auto* player = args[0].if_string();
  if (!player || (*player != "X" && *player != "O"))
    throw Rejection("The player must be \"X\" or \"O\"!");
  const auto* game = state.if_object();
  if (game && over(*game)) throw Rejection("The game is over!");
  if (!game || game->at("players").as_array().size() < 2)
    throw Rejection("Waiting for the other player!");
  return std::string(*player);
}

std::string other(std::string_view player) {
  return player == "X" ? "O" : "X";
}

bool three_in_a_row(const json::array& board, std::string_view player) {
  static constexpr std::array<std::array<int, 3>, 8> lines{
      {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6}, {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}}};
  for (const auto& line : lines) {
    bool all = true;
    for (const auto cell : line) {
      const auto* mark = board[static_cast<std::size_t>(cell)].if_string();
      all = all && mark && *mark == player;
    }
    if (all) return true;
  }
  return false;
}

/// join() or join(name): the next seat, recorded under `name` if given.
json::value join(const json::value& state, const json::array& args) {
  if (args.size() > 1 || (args.size() == 1 && !args[0].is_string()))
    throw Rejection("join takes at most one argument, the joiner's name");
  if (const auto* game = state.if_object(); game && !args.empty()) {
    for (const auto& [player, who] : game->at("seats").as_object()) {
      if (who == args[0]) {
        throw Rejection(std::string(args[0].as_string()) + " has already joined as " +
                        std::string(player) + "!");
      }
    }
  }
  const auto seats = state.is_object() ? state.at("players").as_array().size() : 0;
  if (seats >= 2) throw Rejection("The game is full!");
  json::object move{{"type", "join"}, {"player", seats == 0 ? "X" : "O"}};
  if (!args.empty()) move["who"] = args[0];
  return move;
}

json::value claim(const json::value& state, const json::array& args) {
  const auto player = player_of(state, args, 2);
  const auto& game = state.as_object();
  if (game.at("turn") != player.c_str()) throw Rejection("It is not your turn!");
  const auto* cell = args[1].if_int64();
  if (!cell || *cell < 0 || *cell > 8) throw Rejection("There is no such cell!");
  if (!game.at("board").as_array()[static_cast<std::size_t>(*cell)].is_null())
    throw Rejection("That cell is already marked!");
  return json::object{{"type", "claim"}, {"player", player}, {"cell", *cell}};
}

json::value forfeit(const json::value& state, const json::array& args) {
  const auto player = player_of(state, args, 1);
  return json::object{{"type", "forfeit"}, {"player", player}};
}

json::value tie(const json::value& state, const json::array& args) {
  const auto player = player_of(state, args, 1);
  for (const auto& offer : state.at("tieOffers").as_array()) {
    if (offer == player.c_str()) throw Rejection("You already offered a tie!");
  }
  return json::object{{"type", "tie"}, {"player", player}};
}

using MethodFunction = json::value (*)(const json::value&, const json::array&);

/// Whether `move` is exactly what its method makes from `state`. A
/// committed action that no method would make here (a buggy or hostile
/// leader's: a cell off the board, a move out of turn) changes nothing, on
/// every replica alike.
bool legal(const json::value& state, const json::object& move) {
  try {
    const auto& type = move.at("type");
    if (type == "join") {
      const auto* who = move.if_contains("who");
      return join(state, who ? json::array{*who} : json::array{}) == json::value(move);
    }
    json::array args{move.at("player")};
    if (type == "claim") args.push_back(move.at("cell"));
    const MethodFunction method = type == "claim"     ? claim
                                  : type == "forfeit" ? forfeit
                                  : type == "tie"     ? tie
                                                      : nullptr;
    return method && method(state, args) == json::value(move);
  } catch (const std::exception&) {
    return false;
  }
}

/// Applies a legal move; anything else leaves the game as is.
void reduce(json::value& state, const json::value& action) {
  if (!state.is_object()) state = initial();
  const auto* move = action.if_object();
  if (!move || !legal(state, *move)) return;
  auto& game = state.as_object();
  const auto& type = move->at("type");
  const std::string player(move->at("player").as_string());
  if (type == "join") {
    game["players"].as_array().emplace_back(player);
    if (const auto* who = move->if_contains("who")) game["seats"].as_object()[player] = *who;
  } else if (type == "claim") {
    auto& board = game["board"].as_array();
    board[static_cast<std::size_t>(move->at("cell").as_int64())] = player.c_str();
    game["turn"] = other(player);
    if (three_in_a_row(board, player)) {
      game["winner"] = player.c_str();
    } else if (std::none_of(board.begin(), board.end(),
                            [](const json::value& cell) { return cell.is_null(); })) {
      game["tie"] = true;
    }
  } else if (type == "forfeit") {
    game["winner"] = other(player);
  } else if (type == "tie") {
    auto& offers = game["tieOffers"].as_array();
    offers.emplace_back(player);
    if (offers.size() == 2) game["tie"] = true;
  }
}

}  // namespace

App tictactoe() {
  App app;
  app.methods["join"] = join;
  app.methods["claim"] = claim;
  app.methods["forfeit"] = forfeit;
  app.methods["tie"] = tie;
  app.reduce_in_place = reduce;
  return app;
}

}  // namespace conflux::apps
